package pyjson

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/pycompat"
)

// This file parses JSON with the semantics of Python's json.load as the
// Python dvp calls it (CPython 3.11, C scanner, strict=True): the same
// accepted language (NaN, Infinity and -Infinity literals, duplicate keys
// where the last value wins, lone surrogate escapes), the same error
// messages and the same error positions. Positions are kept as byte
// offsets; see LineIndex for the conversion to Python's line/column.

// MaxDepth bounds nesting. CPython raises RecursionError (dvp then crashes)
// somewhere below 1000 levels.
const MaxDepth = 1000

// Python refuses int literals of more than 4300 digits.
const maxIntDigits = 4300

// Kind is the kind of a JSON value.
type Kind byte

const (
	Object Kind = iota
	Array
	String
	Number
	True
	False
	Null
)

// Member is one member of an object, in document order.
type Member struct {
	Name     string
	KeyStart int // byte offset of the key's opening quote
	Value    *Node
}

// Node is a parsed JSON value with its position in the document.
type Node struct {
	Kind       Kind
	Start, End int    // byte offsets of the value: data[Start:End]
	Str        string // string value
	Num        string // number literal as written (incl. NaN, Infinity, -Infinity)
	Members    []Member
	Items      []*Node
}

// ParseError is a decode error at a byte offset.
type ParseError struct {
	Msg string
	Off int
}

type jparser struct {
	data  []byte
	depth int
}

func (p *jparser) fail(msg string, off int) {
	panic(&ParseError{Msg: msg, Off: off})
}

// Parse decodes data like json.loads (after the file was read as UTF-8
// text). It returns the root node or the first error.
func Parse(data []byte) (root *Node, err *ParseError) {
	if off, reason, bad := pycompat.InvalidUTF8(data); bad {
		return nil, &ParseError{Msg: fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", data[off], off, reason), Off: off}
	}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return nil, &ParseError{Msg: "Unexpected UTF-8 BOM (decode using utf-8-sig)", Off: 0}
	}
	p := &jparser{data: data}
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(*ParseError)
			if !ok {
				panic(r)
			}
			root, err = nil, je
		}
	}()
	idx := p.skipWS(0)
	root, end := p.scanOnce(idx)
	end = p.skipWS(end)
	if end != len(data) {
		p.fail("Extra data", end)
	}
	return root, nil
}

func isWS(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (p *jparser) skipWS(i int) int {
	for i < len(p.data) && isWS(p.data[i]) {
		i++
	}
	return i
}

func (p *jparser) hasPrefix(i int, s string) bool {
	return i+len(s) <= len(p.data) && string(p.data[i:i+len(s)]) == s
}

// scanOnce is scan_once_unicode. A value that cannot start at idx is
// Python's StopIteration, reported by the caller as "Expecting value".
func (p *jparser) scanOnce(idx int) (*Node, int) {
	if idx >= len(p.data) {
		p.fail("Expecting value", idx)
	}
	switch c := p.data[idx]; c {
	case '"':
		s, end := p.scanString(idx + 1)
		return &Node{Kind: String, Start: idx, End: end, Str: s}, end
	case '{':
		return p.parseObject(idx)
	case '[':
		return p.parseArray(idx)
	case 'n':
		if p.hasPrefix(idx, "null") {
			return &Node{Kind: Null, Start: idx, End: idx + 4}, idx + 4
		}
	case 't':
		if p.hasPrefix(idx, "true") {
			return &Node{Kind: True, Start: idx, End: idx + 4}, idx + 4
		}
	case 'f':
		if p.hasPrefix(idx, "false") {
			return &Node{Kind: False, Start: idx, End: idx + 5}, idx + 5
		}
	case 'N':
		if p.hasPrefix(idx, "NaN") {
			return &Node{Kind: Number, Start: idx, End: idx + 3, Num: "NaN"}, idx + 3
		}
	case 'I':
		if p.hasPrefix(idx, "Infinity") {
			return &Node{Kind: Number, Start: idx, End: idx + 8, Num: "Infinity"}, idx + 8
		}
	case '-':
		if p.hasPrefix(idx, "-Infinity") {
			return &Node{Kind: Number, Start: idx, End: idx + 9, Num: "-Infinity"}, idx + 9
		}
	}
	return p.matchNumber(idx)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// matchNumber is _match_number_unicode.
func (p *jparser) matchNumber(start int) (*Node, int) {
	d := p.data
	n := len(d)
	idx := start
	if idx < n && d[idx] == '-' {
		idx++
		if idx >= n {
			p.fail("Expecting value", start)
		}
	}
	switch {
	case idx < n && d[idx] >= '1' && d[idx] <= '9':
		idx++
		for idx < n && isDigit(d[idx]) {
			idx++
		}
	case idx < n && d[idx] == '0':
		idx++
	default:
		p.fail("Expecting value", start)
	}
	isFloat := false
	if idx < n-1 && d[idx] == '.' && isDigit(d[idx+1]) {
		isFloat = true
		idx += 2
		for idx < n && isDigit(d[idx]) {
			idx++
		}
	}
	if idx < n-1 && (d[idx] == 'e' || d[idx] == 'E') {
		eStart := idx
		idx++
		if idx < n-1 && (d[idx] == '-' || d[idx] == '+') {
			idx++
		}
		for idx < n && isDigit(d[idx]) {
			idx++
		}
		if isDigit(d[idx-1]) {
			isFloat = true
		} else {
			idx = eStart
		}
	}
	lit := string(d[start:idx])
	if !isFloat {
		digits := len(strings.TrimPrefix(lit, "-"))
		if digits > maxIntDigits {
			p.fail(fmt.Sprintf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit", maxIntDigits, digits), start)
		}
	}
	return &Node{Kind: Number, Start: start, End: idx, Num: lit}, idx
}

func (p *jparser) enter(idx int, what string) {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(fmt.Sprintf("maximum nesting depth of %d exceeded while decoding a JSON %s", MaxDepth, what), idx)
	}
}

func (p *jparser) parseObject(start int) (*Node, int) {
	p.enter(start, "object")
	defer func() { p.depth-- }()
	d := p.data
	n := &Node{Kind: Object, Start: start}
	idx := p.skipWS(start + 1)
	if idx >= len(d) || d[idx] != '}' {
		for {
			if idx >= len(d) || d[idx] != '"' {
				p.fail("Expecting property name enclosed in double quotes", idx)
			}
			keyStart := idx
			key, next := p.scanString(idx + 1)
			idx = p.skipWS(next)
			if idx >= len(d) || d[idx] != ':' {
				p.fail("Expecting ':' delimiter", idx)
			}
			idx = p.skipWS(idx + 1)
			val, next := p.scanOnce(idx)
			n.Members = append(n.Members, Member{Name: key, KeyStart: keyStart, Value: val})
			idx = p.skipWS(next)
			if idx < len(d) && d[idx] == '}' {
				break
			}
			if idx >= len(d) || d[idx] != ',' {
				p.fail("Expecting ',' delimiter", idx)
			}
			idx = p.skipWS(idx + 1)
		}
	}
	n.End = idx + 1
	return n, idx + 1
}

func (p *jparser) parseArray(start int) (*Node, int) {
	p.enter(start, "array")
	defer func() { p.depth-- }()
	d := p.data
	n := &Node{Kind: Array, Start: start}
	idx := p.skipWS(start + 1)
	if idx >= len(d) || d[idx] != ']' {
		for {
			val, next := p.scanOnce(idx)
			n.Items = append(n.Items, val)
			idx = p.skipWS(next)
			if idx < len(d) && d[idx] == ']' {
				break
			}
			if idx >= len(d) || d[idx] != ',' {
				p.fail("Expecting ',' delimiter", idx)
			}
			idx = p.skipWS(idx + 1)
		}
	}
	n.End = idx + 1
	return n, idx + 1
}

func hexVal(b byte) (rune, bool) {
	switch {
	case b >= '0' && b <= '9':
		return rune(b - '0'), true
	case b >= 'a' && b <= 'f':
		return rune(b-'a') + 10, true
	case b >= 'A' && b <= 'F':
		return rune(b-'A') + 10, true
	}
	return 0, false
}

// scanString is scanstring_unicode (strict): end is just after the opening
// quote; it returns the string and the offset after the closing quote.
func (p *jparser) scanString(end int) (string, int) {
	d := p.data
	begin := end - 1
	var b strings.Builder
	for {
		next := end
		var c byte
		for ; next < len(d); next++ {
			c = d[next]
			if c == '"' || c == '\\' {
				break
			}
			if c <= 0x1f {
				p.fail("Invalid control character at", next)
			}
		}
		if next >= len(d) {
			p.fail("Unterminated string starting at", begin)
		}
		b.Write(d[end:next])
		next++
		if c == '"' {
			return b.String(), next
		}
		if next == len(d) {
			p.fail("Unterminated string starting at", begin)
		}
		c = d[next]
		if c != 'u' {
			end = next + 1
			switch c {
			case '"', '\\', '/':
				b.WriteByte(c)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				p.fail("Invalid \\escape", end-2)
			}
			continue
		}
		next++
		end = next + 4
		if end >= len(d) {
			p.fail("Invalid \\uXXXX escape", next-1)
		}
		var r rune
		for ; next < end; next++ {
			h, ok := hexVal(d[next])
			if !ok {
				p.fail("Invalid \\uXXXX escape", end-5)
			}
			r = r<<4 | h
		}
		if utf16.IsSurrogate(r) && r < 0xDC00 && end+6 < len(d) && d[next] == '\\' && d[next+1] == 'u' {
			next += 2
			end += 6
			var r2 rune
			for ; next < end; next++ {
				h, ok := hexVal(d[next])
				if !ok {
					p.fail("Invalid \\uXXXX escape", end-5)
				}
				r2 = r2<<4 | h
			}
			if r2 >= 0xDC00 && r2 < 0xE000 {
				r = utf16.DecodeRune(r, r2)
			} else {
				end -= 6
			}
		}
		// A lone surrogate has no UTF-8 form; Go strings hold U+FFFD.
		b.WriteRune(r)
	}
}

// LineIndex converts byte offsets into Python's positions: the file is read
// in text mode (universal newlines: \r\n and \r become \n), columns count
// characters, lines and columns are 1-based.
type LineIndex struct {
	data  []byte
	lines []int // byte offset where each line starts
}

func NewLineIndex(data []byte) *LineIndex {
	li := &LineIndex{data: data, lines: []int{0}}
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			li.lines = append(li.lines, i+1)
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			li.lines = append(li.lines, i+1)
		}
	}
	return li
}

// Pos returns the 1-based line and column of byte offset off.
func (li *LineIndex) Pos(off int) (line, col int) {
	if off > len(li.data) {
		off = len(li.data)
	}
	lo, hi := 0, len(li.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if li.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, utf8.RuneCount(li.data[li.lines[lo]:off]) + 1
}

// Char returns Python's character index of byte offset off.
func (li *LineIndex) Char(off int) int {
	if off > len(li.data) {
		off = len(li.data)
	}
	n := utf8.RuneCount(li.data[:off])
	// Each \r\n before off is one character in text mode.
	for i := 0; i+1 < off; i++ {
		if li.data[i] == '\r' && li.data[i+1] == '\n' {
			n--
		}
	}
	return n
}
