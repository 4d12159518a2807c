package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/dvpkit/dvp/internal/engine/core"
)

// The envelopes of answers, written in one pass: the result is encoded
// once (or is ready JSON: a stored document, a rendered plugin) and the
// envelope's few fields are appended around it, instead of encoding an
// envelope whose result the encoder then checks and compacts again. The
// bytes are those encoding/json writes for engineapi.OKResult and
// engineapi.ListResult with HTML escaping off (api_test.go checks).

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeValue appends v's JSON (HTML characters not escaped) to b.
func encodeValue(b *bytes.Buffer, v any) error {
	n := b.Len()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Truncate(n)
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// appendString appends s as a JSON string (HTML characters not escaped).
func appendString(b *bytes.Buffer, s string) {
	encodeValue(b, s) // a string always encodes
}

func appendRefOrNull(b *bytes.Buffer, s *string) {
	if s == nil {
		b.WriteString("null")
		return
	}
	appendString(b, *s)
}

func send(w http.ResponseWriter, status int, b *bytes.Buffer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()+1))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b.WriteByte('\n') // as json.Encoder ends a value
	w.Write(b.Bytes())
}

// writeOK answers an OKResult whose result is v.
func writeOK(w http.ResponseWriter, v any, job, action *string) {
	writeResult(w, "OKResult", v, job, action)
}

// writeData answers a DataResult whose result is v.
func writeData(w http.ResponseWriter, v any) {
	writeResult(w, "DataResult", v, nil, nil)
}

func writeResult(w http.ResponseWriter, typ string, v any, job, action *string) {
	b := bufPool.Get().(*bytes.Buffer)
	defer putBuf(b)
	b.Reset()
	b.WriteString(`{"type":"` + typ + `","status":"OK","result":`)
	if raw, ok := v.(ready); ok {
		b.Write(raw)
	} else if err := encodeValue(b, v); err != nil {
		writeError(w, internalErr(err))
		return
	}
	b.WriteString(`,"job":`)
	appendRefOrNull(b, job)
	b.WriteString(`,"action":`)
	appendRefOrNull(b, action)
	b.WriteByte('}')
	send(w, http.StatusOK, b)
}

// ready is JSON the engine wrote itself, compact and valid: a stored
// object document or a rendered plugin. It goes into an answer as it is.
type ready []byte

// writeList answers a ListResult of ready items: the page of a list of
// total items that starts at offset.
func writeList(w http.ResponseWriter, items []json.RawMessage, offset, total int) {
	const head = `{"type":"ListResult","status":"OK","result":[`
	overflow := offset+len(items) < total
	tail := `],"job":null,"action":null,"total":` + strconv.Itoa(total) + `,"overflow":` + strconv.FormatBool(overflow) + "}\n"
	size := len(head) + len(tail)
	for i, it := range items {
		if i > 0 {
			size++
		}
		size += len(it)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// The items are written in pieces of about listPiece bytes from one
	// pooled buffer: a whole list in one buffer was a new one of its size
	// at each request (2.4 MiB for 1,000 plugins, too large to pool),
	// whose allocation and clearing were most of the engine's work for
	// it (docs/performance.md).
	b := bufPool.Get().(*bytes.Buffer)
	defer putBuf(b)
	b.Reset()
	b.WriteString(head)
	for i, it := range items {
		if b.Len() > 0 && b.Len()+len(it)+1 > listPiece {
			if _, err := w.Write(b.Bytes()); err != nil {
				return // the client is gone
			}
			b.Reset()
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString(tail)
	w.Write(b.Bytes())
}

// listPiece is the size of the pieces writeList writes a list in.
const listPiece = 256 << 10

// putBuf returns a buffer to the pool unless it grew large (a list of
// thousands of plugins): those are left to the garbage collector.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}

// pageOf reads the paging parameters of a list request (docs/engine.md,
// "Paging"): pageSize, the number of items of a page (0: no limit), and
// pageOffset, the page's number counted from 0 (the page starts at
// pageOffset x pageSize). Without them the list is whole.
func pageOf(r *http.Request) (core.Page, *APIError) {
	q := r.URL.Query()
	size, offset := q.Get("pageSize"), q.Get("pageOffset")
	p := core.All
	if size == "" && offset == "" {
		return p, nil
	}
	bad := func(name, v string) *APIError {
		return apiErr(http.StatusBadRequest, "exception.webservices.parameter.invalid",
			"The query parameter "+name+"="+strconv.Quote(v)+" is not a whole number from 0 to 1000000.",
			"Give pageSize (items per page, 0 for all) and pageOffset (the page number, from 0) as whole numbers.")
	}
	num := func(name, v string) (int, *APIError) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return 0, bad(name, shorten(v, 40))
		}
		return n, nil
	}
	if size != "" {
		n, err := num("pageSize", size)
		if err != nil {
			return p, err
		}
		if n > 0 {
			p.Limit = n
		}
	}
	if offset != "" {
		n, err := num("pageOffset", offset)
		if err != nil {
			return p, err
		}
		if n > 0 && p.Limit <= 0 {
			return p, apiErr(http.StatusBadRequest, "exception.webservices.parameter.invalid",
				"The query parameter pageOffset="+strconv.Itoa(n)+" needs a pageSize: a page's offset counts pages of pageSize items.",
				"Give pageSize too (for example pageSize=25&pageOffset="+strconv.Itoa(n)+").")
		}
		p.Offset = n * max(p.Limit, 0)
	}
	return p, nil
}
