package pluginhost

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// The size OutputBuffer counts is the size encoding/json gives the text,
// whatever the bytes and however the writes split them.
func TestOutputBufferCountsJSONText(t *testing.T) {
	inputs := []string{
		"plain text\n",
		"quotes \" and \\ backslashes\t",
		"<html> & co",
		"\x00\x01\x1f\x7f",
		"héllo wörld 日本語 😀",
		"\u2028\u2029",
		"\xff\xfe invalid \xc3",
		strings.Repeat("\x00", 1000),
	}
	for _, in := range inputs {
		enc, _ := json.Marshal(in)
		want := len(enc) - 2 // without the quotes
		for split := 1; split <= 4; split++ {
			o := &OutputBuffer{Max: 1 << 20, JSON: true}
			for b := []byte(in); len(b) > 0; {
				k := min(split, len(b))
				o.Write(b[:k])
				b = b[k:]
			}
			got := o.jsonLen + 6*len(o.carry) // an unfinished sequence ends as invalid bytes
			if got != want || o.String() != in || o.Overflow() {
				t.Errorf("%q in writes of %d: counted %d, json.Marshal %d (kept %q, overflow %v)", in, split, got, want, o.String(), o.Overflow())
			}
		}
	}
}

// Output past the bound is refused while it is read: 64 MiB of NUL bytes
// (384 MiB as JSON) stops after about a sixth of it, through ReadFrom too.
func TestOutputBufferStopsAtTheBound(t *testing.T) {
	o := &OutputBuffer{Max: 6 << 10, JSON: true}
	n, err := io.Copy(o, io.LimitReader(zeros{}, 64<<20))
	if err != nil || n != 64<<20 {
		t.Fatalf("io.Copy: %d, %v (the writer must take everything)", n, err)
	}
	if !o.Overflow() || o.Len() > 1<<10 {
		t.Errorf("overflow %v, kept %d bytes (at most 1 KiB of NULs fits in 6 KiB of JSON)", o.Overflow(), o.Len())
	}
	ok := &OutputBuffer{Max: 6 << 10, JSON: true}
	ok.Write(bytes.Repeat([]byte("a"), 6<<10))
	if ok.Overflow() {
		t.Error("exactly Max bytes of JSON overflowed")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Without JSON, bytes count as themselves and the first Max are kept.
func TestOutputBufferRaw(t *testing.T) {
	o := &OutputBuffer{Max: 10}
	io.Copy(o, strings.NewReader("0123456789abcdef"))
	if !o.Overflow() || o.String() != "0123456789" {
		t.Errorf("raw: overflow %v, kept %q", o.Overflow(), o.String())
	}
}
