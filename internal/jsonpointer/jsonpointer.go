// Package jsonpointer builds and splits RFC 6901 JSON pointers ("/a/b~1c"),
// the way every dvp problem names the value it is about.
package jsonpointer

import "strings"

// Join builds a pointer from unescaped tokens ("" for none).
func Join(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// Split splits a pointer ("" or "/a/b~1c") into unescaped tokens. A leading
// "#" (a URI fragment) is ignored.
func Split(p string) []string {
	p = strings.TrimPrefix(p, "#")
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts
}
