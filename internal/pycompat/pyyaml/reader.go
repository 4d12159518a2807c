package pyyaml

import (
	"fmt"
	"unicode/utf16"

	"github.com/dvpkit/dvp/internal/pycompat"
)

// decode turns the raw bytes into characters the way PyYAML's Reader does:
// UTF-16 when the data starts with a UTF-16 byte order mark, UTF-8
// otherwise (a UTF-8 BOM stays in the text; the scanner skips it); invalid
// encodings and characters outside YAML's printable set are errors.
func decode(data []byte) ([]rune, *Error) {
	var text []rune
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		r, err := decodeUTF16(data, false)
		if err != nil {
			return nil, err
		}
		text = r
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		r, err := decodeUTF16(data, true)
		if err != nil {
			return nil, err
		}
		text = r
	default:
		if off, reason, bad := pycompat.InvalidUTF8(data); bad {
			m := byteMark(data, off)
			return nil, &Error{Kind: KindReader, Problem: fmt.Sprintf("'utf-8' codec can't decode byte #x%02x: %s", data[off], reason), ProblemMark: &m}
		}
		text = []rune(string(data))
	}
	for i, r := range text {
		if !isYAMLPrintable(r) {
			m := runeMark(text, i)
			return nil, &Error{Kind: KindReader, Problem: fmt.Sprintf("unacceptable character #x%04x: special characters are not allowed", r), ProblemMark: &m}
		}
	}
	return text, nil
}

func decodeUTF16(data []byte, bigEndian bool) ([]rune, *Error) {
	if len(data)%2 != 0 {
		m := Mark{Index: len(data) / 2}
		return nil, &Error{Kind: KindReader, Problem: "'utf-16' codec can't decode the data: truncated data", ProblemMark: &m}
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		if bigEndian {
			units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			units = append(units, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+1 < len(units) && units[i+1] >= 0xDC00 && units[i+1] < 0xE000 {
				i++
				continue
			}
			fallthrough
		case u >= 0xDC00 && u < 0xE000:
			r := utf16.Decode(units[:i])
			m := runeMark(r, len(r))
			return nil, &Error{Kind: KindReader, Problem: "'utf-16' codec can't decode the data: illegal UTF-16 surrogate", ProblemMark: &m}
		}
	}
	return utf16.Decode(units), nil
}

// isYAMLPrintable mirrors PyYAML's Reader.NON_PRINTABLE character class.
func isYAMLPrintable(r rune) bool {
	switch {
	case r == 0x09 || r == 0x0A || r == 0x0D:
		return true
	case r >= 0x20 && r <= 0x7E:
		return true
	case r == 0x85:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// runeMark computes the mark of text[i] with PyYAML's line-break rules.
func runeMark(text []rune, i int) Mark {
	m := Mark{}
	for j := 0; j < i && j < len(text); j++ {
		m = advance(m, text, j)
	}
	m.Index = i
	return m
}

// byteMark computes the mark of data[off] for (prefix-)valid UTF-8 data.
func byteMark(data []byte, off int) Mark {
	prefix := []rune(string(data[:off]))
	return runeMark(prefix, len(prefix))
}

// advance moves a mark over text[j], as Reader.forward does.
func advance(m Mark, text []rune, j int) Mark {
	ch := text[j]
	m.Index++
	next := rune(0)
	if j+1 < len(text) {
		next = text[j+1]
	}
	if ch == '\n' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || (ch == '\r' && next != '\n') {
		m.Line++
		m.Column = 0
	} else if ch != 0xFEFF {
		m.Column++
	}
	return m
}
