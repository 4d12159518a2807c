package codegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// docLines builds the doc comment of a property or type from its schema
// (and, for a $ref, from the schema it designates): prettyName (or title),
// description, the Delphix format, and the UI-only default.
func docLines(n, target *node) []string {
	pick := func(key string) *node {
		if v := n.get(key); v != nil {
			return v
		}
		return target.get(key)
	}
	text := func(key string) string {
		if v := pick(key); v != nil && v.kind == kString {
			return v.str
		}
		return ""
	}
	var parts []string
	label := strings.TrimSpace(text("prettyName"))
	if label == "" {
		label = strings.TrimSpace(text("title"))
	}
	if label != "" {
		// a sentence of its own, since it shares a paragraph with the rest
		if !strings.ContainsAny(label[len(label)-1:], ".!?:") {
			label += "."
		}
		parts = append(parts, label)
	}
	if d := strings.TrimSpace(text("description")); d != "" {
		parts = append(parts, d)
	}
	var notes []string
	switch f := text("format"); f {
	case "", "password": // a password's Go type, types.Password, says it
	case "reference":
		note := "Format: reference"
		if rt := text("referenceType"); rt != "" {
			note += fmt.Sprintf(" (referenceType %s", rt)
			if m := text("matches"); m != "" {
				note += fmt.Sprintf(", matches %q", m)
			}
			note += ")"
		}
		notes = append(notes, note+".")
	default:
		notes = append(notes, "Format: "+f+".")
	}
	if d := pick("default"); d != nil {
		var buf bytes.Buffer
		if json.Compact(&buf, d.raw) == nil {
			notes = append(notes, "Default (pre-fills the UI; no effect on values): "+buf.String()+".")
		}
	}
	if len(notes) > 0 {
		if last := len(parts) - 1; last >= 0 && !strings.ContainsAny(parts[last][len(parts[last])-1:], ".!?:") {
			parts[last] += "."
		}
		parts = append(parts, strings.Join(notes, " "))
	}
	// One paragraph (single newlines): gofmt would turn a short middle
	// paragraph into a heading.
	return sanitize(strings.Join(parts, "\n"))
}

// sanitize turns arbitrary text into comment lines: one line per line of
// text (any line terminator), control characters removed, invalid UTF-8
// replaced, trailing spaces trimmed, no leading, trailing or repeated blank
// lines. A line never ends a comment early because every line is written as
// a // comment.
func sanitize(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(s)
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.Map(func(r rune) rune {
			switch {
			case r == '\t':
				return ' '
			case r == '\uFEFF':
				return -1
			case unicode.IsControl(r):
				return ' '
			}
			return r
		}, line)
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, line)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// comment renders lines as a // comment block (nil for no lines).
func comment(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if l == "" {
			b.WriteString("//")
		} else {
			b.WriteString("// ")
			b.WriteString(l)
		}
	}
	return b.String()
}
