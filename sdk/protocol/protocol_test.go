package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReaderSkipsOversizedLine(t *testing.T) {
	in := `{"type":"call","id":"1"}` + "\n" +
		`{"type":"call","id":"2","input":"` + strings.Repeat("x", 300) + `"}` + "\n" +
		"\n" +
		`{"type":"cancel","id":"3"}` + "\r\n" +
		`not json` + "\n" +
		`{"id":"4"}` + "\n" +
		`{"type":"shutdown"}`
	r := NewReader(strings.NewReader(in), 100)
	m, err := r.Read()
	if err != nil || m.ID != "1" {
		t.Fatalf("first: %v %v", m, err)
	}
	_, err = r.Read()
	var tl *FrameTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 100 {
		t.Fatalf("second: %v", err)
	}
	m, err = r.Read()
	if err != nil || m.Type != TypeCancel || m.ID != "3" {
		t.Fatalf("after the oversized line: %v %v", m, err)
	}
	var me *MalformedError
	if _, err = r.Read(); !errors.As(err, &me) {
		t.Fatalf("not json: %v", err)
	}
	if _, err = r.Read(); !errors.As(err, &me) {
		t.Fatalf("no type: %v", err)
	}
	if _, err = r.Read(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("unterminated last line: %v", err)
	}
	if _, err = r.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestReaderLongLinesWithinLimit(t *testing.T) {
	big := strings.Repeat("z", 200<<10) // longer than the bufio buffer
	var buf bytes.Buffer
	w := NewWriter(&buf, 1<<20)
	for i := 0; i < 2; i++ {
		if err := w.Write(&Message{Type: TypeResult, ID: "x", Output: json.RawMessage(`"` + big + `"`)}); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&buf, 1<<20)
	for i := 0; i < 2; i++ {
		m, err := r.Read()
		if err != nil || len(m.Output) != len(big)+2 {
			t.Fatalf("read %d: %v", i, err)
		}
	}
}

func TestWriterRejectsTooLarge(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 50)
	err := w.Write(&Message{Type: TypeRequest, Params: json.RawMessage(`"` + strings.Repeat("a", 60) + `"`)})
	var tl *FrameTooLargeError
	if !errors.As(err, &tl) || buf.Len() != 0 {
		t.Fatalf("%v, wrote %d bytes", err, buf.Len())
	}
	// Raw JSON with newlines is compacted: one message, one line.
	if err := NewWriter(&buf, 0).Write(&Message{Type: TypeResult, Output: json.RawMessage("{\n\"a\": 1\n}")}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("%q", got)
	}
}

func TestTruncate(t *testing.T) {
	e := &ErrorBody{Kind: KindPanic, Message: strings.Repeat("m", 100<<10), Output: strings.Repeat("é", 200<<10)}
	e.Truncate(MaxErrorPayload)
	b, _ := json.Marshal(e)
	if len(b) > MaxErrorPayload {
		t.Fatalf("%d bytes after truncation", len(b))
	}
	if !utf8.ValidString(e.Output) || !strings.HasSuffix(e.Output, "[truncated]") {
		t.Fatalf("output end %q", e.Output[len(e.Output)-20:])
	}
	if e.Message != strings.Repeat("m", 100<<10) {
		t.Fatal("the message was cut although cutting the output was enough")
	}
	small := &ErrorBody{Kind: KindUser, Message: "short"}
	small.Truncate(MaxErrorPayload)
	if small.Message != "short" {
		t.Fatal(small.Message)
	}
	// Escaping makes JSON longer than the text; still within the limit.
	esc := &ErrorBody{Kind: KindUser, Message: strings.Repeat("\x01", 100<<10)}
	esc.Truncate(MaxErrorPayload)
	if b, _ := json.Marshal(esc); len(b) > MaxErrorPayload {
		t.Fatalf("%d bytes", len(b))
	}
}
