package artifact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// The bounds of what Scan keeps in memory: everything but sourceCode. An
// artifact is a hostile document, and what is kept is decoded and its
// schemas compiled afterwards, which costs far more memory than the text
// (about 2 KiB per compiled subschema: 64 MiB of "{}," would be tens of
// gigabytes). A plugin's schemas hold hundreds of values, rarely
// thousands.
const (
	// DefaultMaxFieldBytes bounds every top-level value but sourceCode, and
	// all of them with their keys together.
	DefaultMaxFieldBytes = 64 << 20
	// DefaultMaxValues bounds the JSON values of the top-level fields but
	// sourceCode, together (each object member and array element counts).
	DefaultMaxValues = 100_000
	// DefaultMaxDepth bounds how deep a top-level value nests.
	DefaultMaxDepth = 100
)

// Fields is the top level of an artifact document as Scan read it.
type Fields struct {
	// Keys lists the top-level keys in document order (first occurrence).
	Keys []string
	// Values holds the raw JSON (syntax-checked) of every top-level value
	// except a sourceCode string, which Scan streams instead.
	Values map[string]json.RawMessage
	// Duplicates lists keys that occur more than once (the last value wins,
	// as in Python).
	Duplicates []string
	// SourceCodeStreamed is true when sourceCode was present as a string.
	SourceCodeStreamed bool
	// Size is the number of bytes of the document.
	Size int64
}

// Has reports whether the document has the top-level key.
func (f *Fields) Has(key string) bool {
	if key == SourceCodeField && f.SourceCodeStreamed {
		return true
	}
	_, ok := f.Values[key]
	return ok
}

// ScanOptions tunes Scan.
type ScanOptions struct {
	// SourceCode receives the characters of the sourceCode string, JSON
	// escapes decoded, as they are read. When nil the string is skipped.
	// Characters inside it are not checked (the base64 decoding that reads
	// them is). Whatever the function leaves unread is skipped.
	SourceCode func(io.Reader) error
	// MaxFieldBytes bounds every other top-level value, and all of them
	// with their keys together; 0 means DefaultMaxFieldBytes.
	MaxFieldBytes int64
	// MaxValues bounds the JSON values of all the other top-level values
	// together, MaxDepth how deep one nests; 0: DefaultMaxValues,
	// DefaultMaxDepth.
	MaxValues int
	MaxDepth  int
}

// JSONSyntaxError is a position in a document that is not valid JSON: the
// error type of Scan and of pyjson.Format alike.
type JSONSyntaxError = pyjson.SyntaxError

// ErrNotObject is returned by Scan for a JSON document that is not an object.
var ErrNotObject = errors.New("the document is a JSON value but not an object")

// FieldTooLargeError is returned by Scan when a top-level value (other than
// sourceCode) is beyond one of the bounds of ScanOptions: larger than
// MaxFieldBytes, alone or with the values before it, holding more values
// than MaxValues with them, or nesting deeper than MaxDepth.
type FieldTooLargeError struct {
	Key   string
	Limit int64
	// Bound is the bound exceeded: BoundBytes, BoundTotalBytes,
	// BoundValues or BoundDepth.
	Bound string
}

// The bounds of FieldTooLargeError.
const (
	BoundBytes      = ""
	BoundTotalBytes = "total"
	BoundValues     = "values"
	BoundDepth      = "depth"
)

func (e *FieldTooLargeError) Error() string {
	return fmt.Sprintf("the value of %q %s", e.Key, e.Problem())
}

// Problem says which bound the value exceeds, without naming it.
func (e *FieldTooLargeError) Problem() string {
	switch e.Bound {
	case BoundTotalBytes:
		return fmt.Sprintf("makes the top-level values other than sourceCode larger than %d bytes together", e.Limit)
	case BoundValues:
		return fmt.Sprintf("makes the top-level values other than sourceCode hold more than %d JSON values together", e.Limit)
	case BoundDepth:
		return fmt.Sprintf("nests deeper than %d levels", e.Limit)
	}
	return fmt.Sprintf("is larger than %d bytes", e.Limit)
}

// Scan reads an artifact document from r without holding it in memory: it
// checks that r is one JSON object, keeps every top-level value but the
// sourceCode string, and streams that string to o.SourceCode. Its memory use
// is independent of the size of sourceCode. A syntax error is a
// *JSONSyntaxError; a valid JSON document that is not an object gives
// ErrNotObject; errors of r and of o.SourceCode are returned as they are.
func Scan(r io.Reader, o ScanOptions) (*Fields, error) {
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	s := &scanner{cr: &countingReader{r: r}, o: o}
	s.br = scanReaders.Get().(*bufio.Reader)
	s.br.Reset(s.cr)
	defer func() {
		s.br.Reset(nil)
		scanReaders.Put(s.br)
	}()
	f := &Fields{Values: map[string]json.RawMessage{}}
	err := s.document(f, o)
	f.Size = s.offset()
	if err != nil {
		return f, err
	}
	return f, nil
}

// scanReaders are Scan's 256 KiB read buffers, kept between scans (an
// engine scans every upload: allocating and clearing one each time cost
// more than the scan of a small artifact).
var scanReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type scanner struct {
	cr *countingReader
	br *bufio.Reader
	o  ScanOptions
	// kept and values count the bytes and the JSON values of the fields
	// kept so far.
	kept   int64
	values int
	inKey  bool // capturing a key: its bytes count, it is not a value
}

func (s *scanner) offset() int64 { return s.cr.n - int64(s.br.Buffered()) }

func (s *scanner) syntaxf(format string, args ...any) error {
	return &JSONSyntaxError{Offset: s.offset(), Msg: fmt.Sprintf(format, args...)}
}

// ioErr turns io.EOF in the middle of a document into a syntax error and
// passes other read errors through.
func (s *scanner) ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		return s.syntaxf("unexpected end of input")
	}
	return err
}

func (s *scanner) skipSpace() error {
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		switch b {
		case ' ', '\t', '\n', '\r':
		default:
			return s.br.UnreadByte()
		}
	}
}

func (s *scanner) peek() (byte, error) {
	b, err := s.br.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (s *scanner) document(f *Fields, o ScanOptions) error {
	if err := s.skipSpace(); err != nil {
		return s.ioErr(err)
	}
	c, err := s.peek()
	if err != nil {
		return s.ioErr(err)
	}
	if c != '{' {
		return s.notObject(o)
	}
	s.br.ReadByte()
	if err := s.skipSpace(); err != nil {
		return s.ioErr(err)
	}
	if c, err := s.peek(); err == nil && c == '}' {
		s.br.ReadByte()
		return s.end()
	}
	for {
		if err := s.member(f, o); err != nil {
			return err
		}
		if err := s.skipSpace(); err != nil {
			return s.ioErr(err)
		}
		b, err := s.br.ReadByte()
		if err != nil {
			return s.ioErr(err)
		}
		switch b {
		case ',':
		case '}':
			return s.end()
		default:
			s.br.UnreadByte()
			return s.syntaxf("expected ',' or '}' after a value")
		}
	}
}

// notObject reads a document that does not start with '{': ErrNotObject
// when it is one JSON value, a syntax error when it is not.
func (s *scanner) notObject(o ScanOptions) error {
	raw, err := s.capture("", o.MaxFieldBytes)
	var tooLarge *FieldTooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return ErrNotObject
	case err != nil:
		return err
	}
	if !json.Valid(raw) {
		return s.syntaxf("not a JSON value")
	}
	if err := s.end(); err != nil {
		return err
	}
	return ErrNotObject
}

// member reads one top-level key and its value into f: the value kept, or
// streamed to o.SourceCode when it is the sourceCode string.
func (s *scanner) member(f *Fields, o ScanOptions) error {
	key, err := s.key()
	if err != nil {
		return err
	}
	if f.Has(key) {
		f.Duplicates = append(f.Duplicates, key)
	} else {
		f.Keys = append(f.Keys, key)
	}
	c, err := s.peek()
	if err != nil {
		return s.ioErr(err)
	}
	if key == SourceCodeField && c == '"' {
		s.br.ReadByte()
		delete(f.Values, key)
		f.SourceCodeStreamed = true
		sr := &stringReader{s: s}
		if o.SourceCode != nil {
			if err := o.SourceCode(sr); err != nil {
				return err
			}
		}
		return sr.skip()
	}
	raw, err := s.capture(key, o.MaxFieldBytes)
	if err != nil {
		return err
	}
	if !json.Valid(raw) {
		return s.syntaxf("the value of %q is not valid JSON", key)
	}
	if key == SourceCodeField {
		f.SourceCodeStreamed = false
	}
	f.Values[key] = raw
	return nil
}

// key reads an object key and the colon after it, and the white space
// before the value.
func (s *scanner) key() (string, error) {
	if err := s.skipSpace(); err != nil {
		return "", s.ioErr(err)
	}
	if c, err := s.peek(); err != nil {
		return "", s.ioErr(err)
	} else if c != '"' {
		return "", s.syntaxf("expected a string key")
	}
	s.inKey = true
	rawKey, err := s.capture("", 1<<16)
	s.inKey = false
	if err != nil {
		return "", err
	}
	var key string
	if err := json.Unmarshal(rawKey, &key); err != nil {
		return "", s.syntaxf("invalid object key")
	}
	if err := s.skipSpace(); err != nil {
		return "", s.ioErr(err)
	}
	if b, err := s.br.ReadByte(); err != nil {
		return "", s.ioErr(err)
	} else if b != ':' {
		return "", s.syntaxf("expected ':' after an object key")
	}
	if err := s.skipSpace(); err != nil {
		return "", s.ioErr(err)
	}
	return key, nil
}

// end checks that only white space follows the document.
func (s *scanner) end() error {
	err := s.skipSpace()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.syntaxf("extra data after the JSON document")
}

// capture returns the raw bytes of the next JSON value (not yet fully
// checked: the caller runs json.Valid on it), at most limit bytes.
func (s *scanner) capture(key string, limit int64) (_ []byte, err error) {
	cb := &captureBuf{s: s, key: key, limit: limit}
	defer func() {
		s.kept += int64(len(cb.out))
		if err == nil && !s.inKey {
			s.values++
			if s.values > s.o.MaxValues {
				err = &FieldTooLargeError{Key: key, Limit: int64(s.o.MaxValues), Bound: BoundValues}
			}
		}
	}()
	c, err := s.peek()
	if err != nil {
		return nil, s.ioErr(err)
	}
	switch c {
	case '{', '[':
		err = cb.container()
	case '"':
		s.br.ReadByte()
		cb.out = append(cb.out, '"')
		err = cb.stringRest()
	default:
		err = cb.scalar()
	}
	if err != nil {
		return nil, err
	}
	return cb.out, nil
}

// captureBuf is the value capture is reading: its bytes so far and the
// bounds they are held to.
type captureBuf struct {
	s     *scanner
	key   string
	limit int64
	out   []byte
}

// add appends a byte of the value, or fails when it would go beyond the
// value's limit or the bound of all kept values together.
func (cb *captureBuf) add(b byte) error {
	if int64(len(cb.out)) >= cb.limit {
		return &FieldTooLargeError{Key: cb.key, Limit: cb.limit}
	}
	if cb.s.kept+int64(len(cb.out)) >= cb.s.o.MaxFieldBytes {
		return &FieldTooLargeError{Key: cb.key, Limit: cb.s.o.MaxFieldBytes, Bound: BoundTotalBytes}
	}
	cb.out = append(cb.out, b)
	return nil
}

// read reads and adds one byte.
func (cb *captureBuf) read() (byte, error) {
	b, err := cb.s.br.ReadByte()
	if err != nil {
		return 0, cb.s.ioErr(err)
	}
	return b, cb.add(b)
}

// container reads an object or array up to its matching close, counting
// its values and its depth.
func (cb *captureBuf) container() error {
	s := cb.s
	depth := 0
	inString := false
	for {
		b, err := cb.read()
		if err != nil {
			return err
		}
		if inString {
			switch b {
			case '\\':
				if _, err := cb.read(); err != nil {
					return err
				}
			case '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > s.o.MaxDepth {
				return &FieldTooLargeError{Key: cb.key, Limit: int64(s.o.MaxDepth), Bound: BoundDepth}
			}
			fallthrough
		case ',':
			// A value follows (or the container is empty: counted
			// all the same).
			s.values++
			if s.values > s.o.MaxValues {
				return &FieldTooLargeError{Key: cb.key, Limit: int64(s.o.MaxValues), Bound: BoundValues}
			}
		case '}', ']':
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
}

// stringRest reads a string after its opening quote, up to and with its
// closing quote.
func (cb *captureBuf) stringRest() error {
	for {
		b, err := cb.read()
		if err != nil {
			return err
		}
		switch b {
		case '\\':
			if _, err := cb.read(); err != nil {
				return err
			}
		case '"':
			return nil
		}
	}
}

// scalar reads a number, true, false or null: up to a delimiter or the
// end of the input.
func (cb *captureBuf) scalar() error {
	s := cb.s
	for {
		b, err := s.br.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if b == ',' || b == '}' || b == ']' || b == ' ' || b == '\t' || b == '\n' || b == '\r' {
			s.br.UnreadByte()
			break
		}
		if err := cb.add(b); err != nil {
			return err
		}
	}
	if len(cb.out) == 0 {
		return s.syntaxf("expected a value")
	}
	return nil
}

// stringReader reads the rest of a JSON string (after its opening quote),
// decoding escapes, until the closing quote.
type stringReader struct {
	s       *scanner
	pending []byte // decoded bytes of an escape not yet returned
	done    bool
}

func (r *stringReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if r.done {
		return 0, io.EOF
	}
	br := r.s.br
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return 0, r.s.ioErr(err)
		}
	}
	chunk, _ := br.Peek(br.Buffered())
	end := bytes.IndexByte(chunk, '"')
	if end < 0 {
		end = len(chunk)
	}
	if bs := bytes.IndexByte(chunk[:end], '\\'); bs >= 0 {
		end = bs
	}
	if end > 0 {
		n := copy(p, chunk[:end])
		br.Discard(n)
		return n, nil
	}
	// chunk[0] is a quote or a backslash.
	if chunk[0] == '"' {
		br.Discard(1)
		r.done = true
		return 0, io.EOF
	}
	if err := r.escape(); err != nil {
		return 0, err
	}
	return r.Read(p)
}

// skip reads the rest of the string without returning it, a buffer at a
// time.
func (r *stringReader) skip() error {
	r.pending = nil
	br := r.s.br
	for !r.done {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				return r.s.ioErr(err)
			}
		}
		chunk, _ := br.Peek(br.Buffered())
		end := bytes.IndexByte(chunk, '"')
		if end < 0 {
			end = len(chunk)
		}
		if bs := bytes.IndexByte(chunk[:end], '\\'); bs >= 0 {
			end = bs
		}
		if end > 0 {
			br.Discard(end)
			continue
		}
		if chunk[0] == '"' {
			br.Discard(1)
			r.done = true
			return nil
		}
		if err := r.escape(); err != nil {
			return err
		}
		r.pending = nil
	}
	return nil
}

func (r *stringReader) escape() error {
	br := r.s.br
	br.ReadByte() // backslash
	e, err := br.ReadByte()
	if err != nil {
		return r.s.ioErr(err)
	}
	switch e {
	case '"', '\\', '/':
		r.pending = []byte{e}
	case 'b':
		r.pending = []byte{'\b'}
	case 'f':
		r.pending = []byte{'\f'}
	case 'n':
		r.pending = []byte{'\n'}
	case 'r':
		r.pending = []byte{'\r'}
	case 't':
		r.pending = []byte{'\t'}
	case 'u':
		u, err := r.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(u) {
			if next, _ := br.Peek(2); len(next) == 2 && next[0] == '\\' && next[1] == 'u' {
				br.Discard(2)
				u2, err := r.hex4()
				if err != nil {
					return err
				}
				u = utf16.DecodeRune(u, u2)
			} else {
				u = utf8.RuneError
			}
		}
		r.pending = utf8.AppendRune(nil, u)
	default:
		return r.s.syntaxf("invalid escape \\%c", e)
	}
	return nil
}

func (r *stringReader) hex4() (rune, error) {
	var h [4]byte
	if _, err := io.ReadFull(r.s.br, h[:]); err != nil {
		return 0, r.s.ioErr(err)
	}
	n, err := strconv.ParseUint(string(h[:]), 16, 32)
	if err != nil {
		return 0, r.s.syntaxf("invalid \\u escape")
	}
	return rune(n), nil
}
