package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// encoded is what encoding/json writes for v with HTML escaping off: the
// bytes the engine answered before the envelopes were written in one pass.
func encoded(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestEnvelopesAreEncodingJSONsBytes checks that the one-pass envelopes
// are byte for byte what encoding/json writes for the contract's types,
// with HTML characters, non-ASCII text, U+2028 and nulls in them.
func TestEnvelopesAreEncodingJSONsBytes(t *testing.T) {
	job, action := "JOB-7 <&>", "ACTION-\u20283 é"
	value := engineapi.Action{Type: "Action", Reference: "ACTION-1", Title: "a <b> & c\u2029", Details: "é\"\\", State: "COMPLETED"}
	docs := []json.RawMessage{json.RawMessage(`{"a":"<&>","b":[1,2.5,null]}`), json.RawMessage(`{"name":"\u00e9"}`)}
	var long []json.RawMessage
	for i := range 3000 {
		long = append(long, json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", i%400))))
	}
	long[1500] = json.RawMessage(`{"big":"` + strings.Repeat("y", listPiece+10) + `"}`)
	for _, tc := range []struct {
		name  string
		write func(*httptest.ResponseRecorder)
		want  any
	}{
		{"OKResult", func(w *httptest.ResponseRecorder) { writeOK(w, value, &job, &action) },
			engineapi.OKResult[any]{Type: "OKResult", Status: "OK", Result: value, Job: &job, Action: &action}},
		{"OKResult of a string", func(w *httptest.ResponseRecorder) { writeOK(w, "", nil, nil) },
			engineapi.OKResult[any]{Type: "OKResult", Status: "OK", Result: ""}},
		{"OKResult of ready JSON", func(w *httptest.ResponseRecorder) { writeOK(w, ready(docs[0]), nil, nil) },
			engineapi.OKResult[any]{Type: "OKResult", Status: "OK", Result: docs[0]}},
		{"DataResult", func(w *httptest.ResponseRecorder) { writeData(w, "token <x>") },
			engineapi.OKResult[any]{Type: "DataResult", Status: "OK", Result: "token <x>"}},
		{"ListResult", func(w *httptest.ResponseRecorder) { writeList(w, docs, 0, 2) },
			engineapi.ListResult[json.RawMessage]{Type: "ListResult", Status: "OK", Result: docs, Total: 2}},
		{"ListResult, a page", func(w *httptest.ResponseRecorder) { writeList(w, docs[:1], 0, 2) },
			engineapi.ListResult[json.RawMessage]{Type: "ListResult", Status: "OK", Result: docs[:1], Total: 2, Overflow: true}},
		{"empty ListResult", func(w *httptest.ResponseRecorder) { writeList(w, nil, 0, 0) },
			engineapi.ListResult[json.RawMessage]{Type: "ListResult", Status: "OK", Result: []json.RawMessage{}}},
		// Written in pieces (listPiece), one item larger than a piece.
		{"a long ListResult", func(w *httptest.ResponseRecorder) { writeList(w, long, 0, len(long)) },
			engineapi.ListResult[json.RawMessage]{Type: "ListResult", Status: "OK", Result: long, Total: len(long)}},
	} {
		w := httptest.NewRecorder()
		tc.write(w)
		if got, want := w.Body.String(), encoded(t, tc.want); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
		if w.Header().Get("Content-Length") != itoa(w.Body.Len()) || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", tc.name, w.Header())
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
