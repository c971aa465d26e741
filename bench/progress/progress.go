package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/chatd/chatd/bench/scenario"
)

// Display shows progress. It is safe for concurrent use.
type Display struct {
	mu   sync.Mutex // guards everything below
	bar  *progressbar.ProgressBar
	last scenario.Progress
	at   time.Time
	rate [2]float64 // sent/s, delivered/s
}

// New returns a display writing to f when f is a terminal, otherwise one
// that prints nothing.
func New(f *os.File, total int) *Display {
	if !term.IsTerminal(int(f.Fd())) {
		return &Display{}
	}
	return newBar(f, total)
}

// NewTo returns a display that always writes to w (tests).
func NewTo(w io.Writer, total int) *Display { return newBar(w, total) }

func newBar(w io.Writer, total int) *Display {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("starting"),
		progressbar.OptionClearOnFinish(),
	)
	return &Display{bar: bar, at: time.Now()}
}

// Update shows the phase and the summed counters of the workers.
func (d *Display) Update(phase string, p scenario.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar == nil {
		return
	}
	now := time.Now()
	if dt := now.Sub(d.at).Seconds(); dt >= 0.5 {
		d.rate[0] = float64(p.Sent-d.last.Sent) / dt
		d.rate[1] = float64(p.Delivered-d.last.Delivered) / dt
		d.last, d.at = p, now
	}
	d.bar.Describe(fmt.Sprintf("%-22s conns %6d  sent/s %8.0f  delivered/s %8.0f  errors %d",
		phase, p.Conns, d.rate[0], d.rate[1], p.Errors))
	_ = d.bar.Set(int(p.Opened))
}

// Done clears the line.
func (d *Display) Done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		_ = d.bar.Finish()
		_ = d.bar.Clear()
	}
}
