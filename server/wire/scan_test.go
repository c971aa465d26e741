package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// marshalRaw is what json.Marshal writes for b as a json.RawMessage.
func marshalRaw(b []byte) ([]byte, bool) {
	var c, out bytes.Buffer
	if json.Compact(&c, b) != nil {
		return nil, false
	}
	json.HTMLEscape(&out, c.Bytes())
	return out.Bytes(), true
}

// FuzzScanValue holds scanValue to encoding/json: it accepts only valid
// JSON, in compact mode only what json.Marshal leaves as it is, and gives
// up on valid input only when it is deeply nested.
func FuzzScanValue(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{}`, `[]`, `[{},[],{"a":{}}]`, ` [ 1 , { "b" : null } ] `, `{"a":1}x`, `"\u12"`, `"\uD83D\uDE00"`, "\"\xe2\x80\"", "\"\xe2\x80\xa9\"", `1.5E+07`, `-01`, `tru`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		deep := bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > maxScanDepth
		end := scanValue(b, skipSpace(b, 0), false)
		loose := end >= 0 && skipSpace(b, end) == len(b)
		if loose != valid && !(valid && deep) {
			t.Fatalf("%q: scanValue accepts %v, json.Valid %v", b, loose, valid)
		}
		strict := scanValue(b, 0, true) == len(b)
		want, ok := marshalRaw(b)
		same := ok && bytes.Equal(want, b)
		if strict != same && !(same && deep) {
			t.Fatalf("%q: compact scanValue accepts %v, json.Marshal keeps it %v", b, strict, same)
		}
	})
}
