// Package termsafe makes text from outside dvp — an engine's answer, a
// plugin's message — safe to print on a terminal: every character that a
// terminal would act on instead of showing (ESC and the sequences it starts,
// OSC clipboard writes, C1 controls, DEL, a lone carriage return that lets
// text overwrite what was printed before, bidirectional overrides that
// reorder what is shown) is replaced by a visible escape such as \x1b or
// \u202e. Newlines and tabs are kept, so multi-line messages stay readable;
// "\r\n" becomes "\n". Invalid UTF-8 bytes are shown as \xNN.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character escaped (see the package
// documentation). It returns s itself when nothing needs escaping.
func String(s string) string {
	if !needs(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF: the newline alone does the same on a terminal.
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Strings escapes each string of ss in place and returns ss.
func Strings(ss []string) []string {
	for i, s := range ss {
		ss[i] = String(s)
	}
	return ss
}

// needs reports whether s holds anything String would change.
func needs(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports the non-ASCII characters a terminal acts on or that
// change how the text around them is shown: the C1 controls (U+0080 to
// U+009F, among them CSI and OSC on terminals that take 8-bit controls),
// the bidirectional embeddings, overrides and isolates (which can make
// text read differently from what it is), and the line and paragraph
// separators.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

// JSON escapes, in JSON text that encoding/json wrote, the characters a
// terminal acts on that the encoder leaves as they are (DEL, the C1
// controls, bidirectional controls) as \u escapes: the JSON value is the
// same, and printing it is safe. encoding/json already escapes the C0
// controls and replaces invalid UTF-8.
func JSON(b []byte) []byte {
	if !needs(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == 0x7f || unsafeRune(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
