package metrics

import (
	"fmt"
	"time"
)

// Data is the JSON form of a Set: histograms in HDR's compressed encoding.
type Data struct {
	Hists    map[string]string `json:"hists,omitempty"`
	Counters map[string]int64  `json:"counters,omitempty"`
	Errors   map[string]int64  `json:"errors,omitempty"`
	Closes   map[int]int64     `json:"closes,omitempty"`
	Series   SeriesData        `json:"series"`
}

// SeriesData is the JSON form of a Series. Lat[i] is "" for a step with no
// samples.
type SeriesData struct {
	StartUnixNano int64              `json:"start_unix_nano"`
	StepNanos     int64              `json:"step_ns"`
	Counts        map[string][]int64 `json:"counts,omitempty"`
	Lat           []string           `json:"lat,omitempty"`
}

// Data encodes s.
func (s *Set) Data() (Data, error) {
	d := Data{
		Hists:    make(map[string]string, len(s.Hists)),
		Counters: s.Counters,
		Errors:   s.Errors,
		Closes:   s.Closes,
		Series: SeriesData{
			StartUnixNano: s.Series.Start.UnixNano(),
			StepNanos:     int64(s.Series.Step),
			Counts:        s.Series.Counts,
		},
	}
	for name, h := range s.Hists {
		enc, err := h.Encode()
		if err != nil {
			return Data{}, fmt.Errorf("histogram %s: %w", name, err)
		}
		d.Hists[name] = enc
	}
	for _, h := range s.Series.Lat {
		enc := ""
		if h != nil {
			var err error
			if enc, err = h.Encode(); err != nil {
				return Data{}, err
			}
		}
		d.Series.Lat = append(d.Series.Lat, enc)
	}
	return d, nil
}

// Set decodes d.
func (d Data) Set() (*Set, error) {
	s := NewSet(time.Unix(0, d.Series.StartUnixNano))
	if d.Series.StepNanos > 0 {
		s.Series.Step = time.Duration(d.Series.StepNanos)
	}
	for name, enc := range d.Hists {
		h, err := DecodeHist(enc)
		if err != nil {
			return nil, fmt.Errorf("histogram %s: %w", name, err)
		}
		s.Hists[name] = h
	}
	for k, v := range d.Counters {
		s.Counters[k] = v
	}
	for k, v := range d.Errors {
		s.Errors[k] = v
	}
	for k, v := range d.Closes {
		s.Closes[k] = v
	}
	for k, v := range d.Series.Counts {
		s.Series.Counts[k] = append([]int64(nil), v...)
	}
	for _, enc := range d.Series.Lat {
		var h *Hist
		if enc != "" {
			var err error
			if h, err = DecodeHist(enc); err != nil {
				return nil, err
			}
		}
		s.Series.Lat = append(s.Series.Lat, h)
	}
	return s, nil
}

// MergeData decodes and merges the sets of several workers into one.
func MergeData(all []Data, start time.Time, step time.Duration) (*Set, error) {
	out := NewSet(start)
	if step > 0 {
		out.Series.Step = step
	}
	for i, d := range all {
		s, err := d.Set()
		if err != nil {
			return nil, fmt.Errorf("worker %d: %w", i, err)
		}
		out.Merge(s)
	}
	return out, nil
}
