package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the runtime protocol's reader (one
// message per line, a small frame limit so the too-large path is exercised
// too) and to Decode: no panic; every message read has a type and writes
// back as one line that decodes to the same message; a reader error is one
// of the documented kinds.
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 5m -parallel 1 ./sdk/protocol/
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","versions":[1]}`,
		`{"type":"hello","version":1,"sdk_version":"0.1.0","plugin_type":"STAGED","operations":["repository_discovery"]}`,
		`{"type":"call","id":"1","operation":"virtual.configure","input":{"a":[1,2,{"b":null}]},"timeout_ms":1000}`,
		`{"type":"error","id":"1","error":{"kind":"user","message":"m","action":"a","output":"o"}}`,
		`{"type":"request","id":"r1","call":"1","method":"run_bash","params":{"command":"ls","variables":{"A":"b"}}}`,
		`{"type":"response","id":"r1","result":{"exit_code":0,"stdout":"\u00e9\n"}}`,
		"{\"type\":\"cancel\",\"id\":\"1\",\"reason\":\"timeout\"}\r\n\n\n{\"type\":\"x\"}",
		`{"type":""}`, `[]`, `{"type":1}`, "\xff\xfe", strings.Repeat("x", 300),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Decode(data)
		r := NewReader(bytes.NewReader(data), 256)
		for i := 0; i < 1000; i++ {
			m, err := r.Read()
			if err != nil {
				var big *FrameTooLargeError
				var bad *MalformedError
				switch {
				case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
					return
				case errors.As(err, &big), errors.As(err, &bad):
					continue
				default:
					t.Fatalf("unexpected reader error %T %v", err, err)
				}
			}
			if m.Type == "" {
				t.Fatal("a message without a type")
			}
			if m.Error != nil {
				_ = m.Error.Error()
				m.Error.Truncate(16)
			}
			var out bytes.Buffer
			if err := NewWriter(&out, 1<<20).Write(m); err != nil {
				t.Fatalf("writing back: %v", err)
			}
			if bytes.Count(out.Bytes(), []byte("\n")) != 1 {
				t.Fatalf("not one line: %q", out.Bytes())
			}
			m2, err := NewReader(&out, 1<<20).Read()
			if err != nil {
				t.Fatalf("reading back %q: %v", out.Bytes(), err)
			}
			a, _ := json.Marshal(m)
			b, _ := json.Marshal(m2)
			if !bytes.Equal(a, b) {
				t.Fatalf("round trip differs:\n%s\n%s", a, b)
			}
		}
	})
}
