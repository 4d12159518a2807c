// Package pyjson reads and writes JSON exactly as Python's json module
// does: Parse accepts and refuses what json.load does, with its messages and
// positions (parse.go); Format writes what json.dump and json.dumps write.
//
// Delphix's dvp 5.0.1 writes artifact.json with Python's json.dump(obj, f, indent=4) and
// sends request bodies with json.dumps(obj). Format re-encodes any JSON
// document byte for byte as those calls would, given the document Python
// would have loaded: object keys keep their order (a repeated key keeps its
// first position and its last value, like a dict), integers keep all their
// digits, other numbers become Python floats printed with repr(), and every
// character outside printable ASCII is escaped (ensure_ascii=True), with
// lower-case hex and surrogate pairs above U+FFFF.
package pyjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/pycompat"
)

// Format re-encodes the JSON document src the way Python's json module
// does. indent < 0 gives json.dumps(v): one line with ", " and ": "
// separators. indent >= 0 gives json.dumps(v, indent=indent): one item per
// line indented by indent spaces per level, with "," and ": " separators.
func Format(src []byte, indent int) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, src, indent); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write is Format writing to w.
func Write(w io.Writer, src []byte, indent int) error {
	p := &pyParser{src: src}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return p.errorf("extra data after the JSON value")
	}
	e := &pyEncoder{indent: indent}
	e.encode(v, 0)
	_, err = w.Write(e.buf.Bytes())
	return err
}

// SyntaxError is a position in a document that is not valid JSON.
type SyntaxError struct {
	Offset int64 // byte offset, 0-based
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

type pyKind uint8

const (
	pyNull pyKind = iota
	pyBool
	pyNumber // text holds the Python rendering
	pyString // units holds UTF-16-like code points (lone surrogates kept)
	pyArray
	pyObject
)

type pyValue struct {
	kind  pyKind
	b     bool
	text  string
	raw   []byte // a string of printable ASCII without escapes, as in the source
	units []rune
	items []*pyValue
	keys  [][]rune
}

type pyParser struct {
	src []byte
	pos int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: int64(p.pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *pyParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *pyParser) value(depth int) (*pyValue, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nesting deeper than %d levels", MaxDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		if raw := p.plainString(); raw != nil {
			return &pyValue{kind: pyString, raw: raw}, nil
		}
		u, err := p.str()
		if err != nil {
			return nil, err
		}
		return &pyValue{kind: pyString, units: u}, nil
	case c == 't':
		return p.literal("true", &pyValue{kind: pyBool, b: true})
	case c == 'f':
		return p.literal("false", &pyValue{kind: pyBool})
	case c == 'n':
		return p.literal("null", &pyValue{kind: pyNull})
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *pyParser) literal(word string, v *pyValue) (*pyValue, error) {
	if !bytes.HasPrefix(p.src[p.pos:], []byte(word)) {
		return nil, p.errorf("invalid literal")
	}
	p.pos += len(word)
	return v, nil
}

func (p *pyParser) object(depth int) (*pyValue, error) {
	p.pos++ // {
	v := &pyValue{kind: pyObject}
	index := map[string]int{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errorf("expected a string key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected ':' after an object key")
		}
		p.pos++
		p.skipSpace()
		item, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks := string(k) // lone surrogates map to U+FFFD here, only for the index
		if i, dup := index[ks]; dup && equalUnits(v.keys[i], k) {
			v.items[i] = item // a dict keeps the first position, the last value
		} else {
			index[ks] = len(v.keys)
			v.keys = append(v.keys, k)
			v.items = append(v.items, item)
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return nil, p.errorf("expected ',' or '}' in an object")
		}
	}
}

func equalUnits(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *pyParser) array(depth int) (*pyValue, error) {
	p.pos++ // [
	v := &pyValue{kind: pyArray}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		item, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return nil, p.errorf("expected ',' or ']' in an array")
		}
	}
}

// plainString returns the content of the string at p.pos, and moves past
// it, when it holds only printable ASCII and no escape: it is then written
// back as it is, without decoding (the fast path for sourceCode). It
// returns nil, and does not move, otherwise.
func (p *pyParser) plainString() []byte {
	end := bytes.IndexByte(p.src[p.pos+1:], '"')
	if end < 0 {
		return nil
	}
	seg := p.src[p.pos+1 : p.pos+1+end]
	for _, c := range seg {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return nil
		}
	}
	p.pos += end + 2
	if seg == nil {
		seg = []byte{}
	}
	return seg
}

// str reads a JSON string into code points. \u escapes that form a valid
// surrogate pair are combined; a lone surrogate is kept as is, as Python does.
func (p *pyParser) str() ([]rune, error) {
	p.pos++ // opening quote
	var out []rune
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return out, nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return nil, p.errorf("unterminated string")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, rune(e))
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					r2, err := p.hex4()
					if err == nil && r2 >= 0xdc00 && r2 <= 0xdfff {
						out = append(out, utf16.DecodeRune(r, r2))
						continue
					}
					p.pos = save
				}
				out = append(out, r)
			default:
				p.pos -= 2
				return nil, p.errorf("invalid escape \\%c", e)
			}
		case c < 0x20:
			return nil, p.errorf("control character %#02x in a string", c)
		case c < utf8.RuneSelf:
			out = append(out, rune(c))
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.errorf("invalid UTF-8")
			}
			out = append(out, r)
			p.pos += size
		}
	}
}

func (p *pyParser) hex4() (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.pos += 4
	return rune(n), nil
}

func (p *pyParser) number() (*pyValue, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("invalid number")
	}
	if p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	isFloat := false
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		isFloat = true
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		isFloat = true
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	lit := string(p.src[start:p.pos])
	if !isFloat {
		// Python ints are exact; only "-0" changes (to "0").
		if lit == "-0" {
			lit = "0"
		}
		return &pyValue{kind: pyNumber, text: lit}, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.errorf("invalid number")
	}
	return &pyValue{kind: pyNumber, text: floatRepr(f)}, nil
}

// floatRepr renders f as json.dumps does: repr(float) (pycompat.ReprFloat)
// for finite values, Infinity, -Infinity and NaN for the others.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	return pycompat.ReprFloat(f)
}

type pyEncoder struct {
	buf    bytes.Buffer
	indent int
}

func (e *pyEncoder) newline(depth int) {
	e.buf.WriteByte('\n')
	for i := 0; i < depth*e.indent; i++ {
		e.buf.WriteByte(' ')
	}
}

func (e *pyEncoder) encode(v *pyValue, depth int) {
	switch v.kind {
	case pyNull:
		e.buf.WriteString("null")
	case pyBool:
		if v.b {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case pyNumber:
		e.buf.WriteString(v.text)
	case pyString:
		if v.raw != nil {
			e.buf.WriteByte('"')
			e.buf.Write(v.raw)
			e.buf.WriteByte('"')
		} else {
			writePyString(&e.buf, v.units)
		}
	case pyArray, pyObject:
		open, close := byte('['), byte(']')
		if v.kind == pyObject {
			open, close = '{', '}'
		}
		e.buf.WriteByte(open)
		if len(v.items) == 0 {
			e.buf.WriteByte(close)
			return
		}
		for i, item := range v.items {
			if i > 0 {
				if e.indent >= 0 {
					e.buf.WriteByte(',')
				} else {
					e.buf.WriteString(", ")
				}
			}
			if e.indent >= 0 {
				e.newline(depth + 1)
			}
			if v.kind == pyObject {
				writePyString(&e.buf, v.keys[i])
				e.buf.WriteString(": ")
			}
			e.encode(item, depth+1)
		}
		if e.indent >= 0 {
			e.newline(depth)
		}
		e.buf.WriteByte(close)
	}
}

const hexDigits = "0123456789abcdef"

func writeU(b *bytes.Buffer, u rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[u>>12&0xf])
	b.WriteByte(hexDigits[u>>8&0xf])
	b.WriteByte(hexDigits[u>>4&0xf])
	b.WriteByte(hexDigits[u&0xf])
}

// writePyString writes s as json.dumps(s) (ensure_ascii=True) does.
func writePyString(b *bytes.Buffer, s []rune) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteByte(byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			writeU(b, r1)
			writeU(b, r2)
		default:
			writeU(b, r)
		}
	}
	b.WriteByte('"')
}

// Quote returns s encoded as json.dumps(s) would.
func Quote(s string) string {
	var b bytes.Buffer
	writePyString(&b, []rune(s))
	return b.String()
}
