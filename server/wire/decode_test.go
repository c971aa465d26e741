package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// ordinaryRequests are requests as clients send them; DecodeRequest decodes
// each without encoding/json. Shared with the benchmarks.
var ordinaryRequests = []struct {
	name string
	json string
}{
	{"message", `{"room":"dev","data":"a message of some forty bytes, typical","id":17}`},
	{"message typed", `{"type":"message","room":"dev","data":{"text":"hi","attachments":[1,2,{"k":null}]},"id":"c-1"}`},
	{"private", `{"receiver":"bob","data":"hi","sender":"alice"}`},
	{"login", `{"type":"login","name":"alice","password":"s3cret","ack":true,"id":1,"since":{"lobby":17,"dev":null}}`},
	{"login token", `{"type":"login","token":"eyJhbGciOi.eyJzdWIi.c2ln","resume":"r-123"}`},
	{"join", `{"type":"join","room":"dev","since": 42 }`},
	{"history", `{"type":"history","room":"dev","after":-1,"limit":5,"before":"3"}`},
	{"history null cursor", `{"type":"history","after":"x","after":null}`},
	{"who", `{"type":"who","room":"dev","after":"bob","limit":50}`},
	{"seen", `{"type":"seen","user":"bob"}`},
	{"ack", `{"type":"ack","id":1763740000123000}`},
	{"pretty", " {\n\t\"type\" : \"join\" ,\r\n \"room\":\"dev\" } \n"},
	{"case folded keys", `{"TYPE":"join","Room":"dev","iD":3,"DATA":null}`},
	{"duplicate keys", `{"room":"a","room":"b","id":1,"ID":2,"name":"x","name":null,"limit":3,"limit":null,"ack":true,"ack":false}`},
	{"unknown fields", `{"x":[{"y":[true,false,null,-1.5e-3,"\u00e9\n"]}],"room":"dev","extra":{}}`},
	{"unicode", `{"room":"café","data":"漢字🙂","user":"é"}`},
	{"empty", `{}`},
	{"null id", `{"receiver": "bob", "data": "null id", "id": null}`},
	{"negative zero limit", `{"limit":-0}`},
}

// oddRequests are inputs DecodeRequest hands to encoding/json: invalid, of
// the wrong type, or with escapes, non-ASCII keys or invalid UTF-8.
var oddRequests = []string{
	``, ` `, `null`, `[]`, `"x"`, `1`, `{`, `{"id":01}`, `{"id":1e}`, `{"data":"a\x"}`, `{"room":"a\x"}`,
	`{"id":1}x`, `{"id":1}{}`, `{"id":1,}`, `{,}`, `{"id"}`, `{"id":}`, `{'id':1}`, `{"id":1 "room":"x"}`,
	`{"receiver":5,"data":"x","id":7}`, `{"room":true}`, `{"ack":"true"}`, `{"ack":1}`, `{"limit":"5","id":"r"}`,
	`{"limit":1.5}`, `{"limit":1e3}`, `{"limit":99999999999999999999}`, `{"limit":9223372036854775807}`, `{"limit":-9223372036854775808}`,
	`{"type":"history","id":7,"room":"dev","after":{}}`, `{"after":true,"id":7}`, `{"after":[1],"room":"x"}`,
	`{"type":"history","room":"dev","after":1.5,"id":7}`, `{"before":-01}`,
	`{"r\u006fom":"dev"}`, `{"room":"d\u00e9v"}`, `{"room":"\ud800"}`, `{"room":"\ud83d\ude00x"}`, "{\"room\":\"\xff\"}",
	"{\"\u017fender\":\"a\"}", "{\"\u212aey\":1}", "{\"room\":\"a\x01\"}", "\xef\xbb\xbf{}",
	`{"data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	`{"data":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"data":` + strings.Repeat("[", 10) + `}`,
	`{"name":"a","name":5,"id":3}`, `{"since":{"lobby":1},"since":}`, `{"type":"login","name":"bob"`,
}

// checkDecode fails t unless DecodeRequest and json.Unmarshal agree on b:
// the same Request, and the same error (type and text), or none.
func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var want Request
	wantErr := json.Unmarshal(b, &want)
	got := Request{Name: "stale", Data: json.RawMessage(`1`)} // DecodeRequest zeroes it
	err := DecodeRequest(b, &got)
	if reflect.TypeOf(err) != reflect.TypeOf(wantErr) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q:\nerror %v (%T)\nwant  %v (%T)", b, err, err, wantErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\ngot  %#v\nwant %#v", b, got, want)
	}
}

func TestDecodeRequest(t *testing.T) {
	for _, c := range ordinaryRequests {
		t.Run(c.name, func(t *testing.T) {
			checkDecode(t, []byte(c.json))
			var r Request
			if !decodeFast([]byte(c.json), &r) {
				t.Errorf("%s: not decoded by the fast path", c.json)
			}
		})
	}
	for _, s := range oddRequests {
		checkDecode(t, []byte(s))
	}
}

// TestDecodeTypeNoAlloc: a known type costs no allocation.
func TestDecodeTypeNoAlloc(t *testing.T) {
	b := []byte(`{"type":"join"}`)
	var r Request
	if n := testing.AllocsPerRun(100, func() { _ = DecodeRequest(b, &r) }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, c := range ordinaryRequests {
		f.Add([]byte(c.json))
	}
	for _, s := range oddRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}
