// Package jsonkind names the kind of a JSON value for the SDK's messages.
package jsonkind

import "strings"

// Of describes the JSON value in raw by its first character: "an object",
// "an array", "a string", "a number", "a boolean", "null", or "empty" when
// raw is only white space. It does not check that raw is valid JSON.
func Of(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "empty"
	}
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
