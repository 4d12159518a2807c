package types

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONTypes is a set of JSON types, used by Decoder.Raw for properties whose
// schema lists several types ("type": ["string", "null"]).
type JSONTypes uint8

// The JSON types of JSON Schema. JSONInteger is a number without a
// fractional part; JSONNumber includes it.
const (
	JSONNull JSONTypes = 1 << iota
	JSONBoolean
	JSONObject
	JSONArray
	JSONNumber
	JSONString
	JSONInteger

	// JSONAny accepts every JSON value.
	JSONAny JSONTypes = 0
)

var jsonTypeNames = []struct {
	t    JSONTypes
	name string
}{
	{JSONObject, "object"}, {JSONArray, "array"}, {JSONString, "string"}, {JSONNumber, "number"},
	{JSONInteger, "integer"}, {JSONBoolean, "boolean"}, {JSONNull, "null"},
}

// String lists the types, e.g. "string or null".
func (t JSONTypes) String() string {
	if t == JSONAny {
		return "any JSON value"
	}
	var names []string
	for _, n := range jsonTypeNames {
		if t&n.t != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, " or ")
}

// Decoder decodes JSON into generated types: it checks every JSON type,
// records every problem with its JSON pointer, and keeps going, so that one
// UnmarshalJSON call reports all problems of a document. Generated code uses
// it; it expects syntactically valid JSON (see CheckSyntax) and never panics
// on anything else.
type Decoder struct {
	collector
}

// Err returns the problems found so far as ValidationErrors, or nil.
func (d *Decoder) Err() error { return d.errs.Err() }

// Nest records the problems of err, returned by decoding the value at path,
// with path prefixed to theirs.
func (d *Decoder) Nest(err error, path ...any) { d.nest(err, path) }

// Required records a missing required property unless present.
func (d *Decoder) Required(present bool, path ...any) {
	if !present {
		d.add("required property is missing", path)
	}
}

// Unknown records a property that the schema does not allow
// ("additionalProperties": false).
func (d *Decoder) Unknown(path ...any) {
	d.add("property is not allowed (the schema has additionalProperties: false)", path)
}

// UnknownOf is Unknown for an object whose declared properties are
// declared: when one of them is key but for case, the message names it
// (names match exactly, case included).
func (d *Decoder) UnknownOf(key string, declared ...string) {
	for _, name := range declared {
		if strings.EqualFold(name, key) {
			d.add(fmt.Sprintf("property is not allowed (the schema has additionalProperties: false): did you mean %q? Names match exactly, case included", name), []any{key})
			return
		}
	}
	d.Unknown(key)
}

// CheckSyntax returns a ValidationErrors describing a JSON syntax error in
// data, or nil when data is one valid JSON value.
func CheckSyntax(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v any
	err := json.Unmarshal(data, &v)
	msg := "invalid JSON"
	if err != nil {
		msg += ": " + err.Error()
	}
	return ValidationErrors{{Message: msg}}
}

// typeOf returns the JSON type of a (valid) JSON value; numbers are
// JSONNumber, plus JSONInteger when they have no fractional part.
func typeOf(data []byte) JSONTypes {
	i := skipWS(data, 0)
	if i >= len(data) {
		return 0
	}
	switch data[i] {
	case '{':
		return JSONObject
	case '[':
		return JSONArray
	case '"':
		return JSONString
	case 't', 'f':
		return JSONBoolean
	case 'n':
		return JSONNull
	}
	if _, problem := parseInt(string(bytes.TrimSpace(data))); problem != "not an integer" {
		return JSONNumber | JSONInteger
	}
	return JSONNumber
}

func typeName(data []byte) string {
	t := typeOf(data)
	switch {
	case t == 0:
		return "nothing"
	case t&JSONNumber != 0:
		return "number"
	}
	return t.String()
}

// Expect reports whether data is of one of the JSON types want, recording a
// problem at path when it is not.
func (d *Decoder) Expect(data []byte, want JSONTypes, path ...any) bool {
	got := typeOf(data)
	if want == JSONAny && got != 0 || got&want != 0 {
		return true
	}
	d.add("expected "+want.String()+", got "+typeName(data), path)
	return false
}

// Object iterates over the members of the JSON object data, in document
// order, yielding each property name and its (undecoded) value. When data is
// not an object, it records a problem at path and yields nothing.
func (d *Decoder) Object(data []byte, path ...any) iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		i := skipWS(data, 0)
		if i >= len(data) || data[i] != '{' {
			d.Expect(data, JSONObject, path...)
			return
		}
		i = skipWS(data, i+1)
		if i < len(data) && data[i] == '}' {
			return
		}
		for i < len(data) && data[i] == '"' {
			end := skipString(data, i)
			if end < 0 {
				break
			}
			key, ok := unquote(data[i:end])
			if !ok {
				break
			}
			i = skipWS(data, end)
			if i >= len(data) || data[i] != ':' {
				break
			}
			start := skipWS(data, i+1)
			end = skipValue(data, start)
			if end < 0 {
				break
			}
			if !yield(key, data[start:end]) {
				return
			}
			i = skipWS(data, end)
			if i < len(data) && data[i] == ',' {
				i = skipWS(data, i+1)
				continue
			}
			if i < len(data) && data[i] == '}' {
				return
			}
			break
		}
		d.add("invalid JSON object", path)
	}
}

// Array iterates over the elements of the JSON array data, yielding each
// index and (undecoded) element. When data is not an array, it records a
// problem at path and yields nothing.
func (d *Decoder) Array(data []byte, path ...any) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		i := skipWS(data, 0)
		if i >= len(data) || data[i] != '[' {
			d.Expect(data, JSONArray, path...)
			return
		}
		i = skipWS(data, i+1)
		if i < len(data) && data[i] == ']' {
			return
		}
		for n := 0; i < len(data); n++ {
			end := skipValue(data, i)
			if end < 0 {
				break
			}
			if !yield(n, data[i:end]) {
				return
			}
			i = skipWS(data, end)
			if i < len(data) && data[i] == ',' {
				i = skipWS(data, i+1)
				continue
			}
			if i < len(data) && data[i] == ']' {
				return
			}
			break
		}
		d.add("invalid JSON array", path)
	}
}

// String decodes a JSON string.
func (d *Decoder) String(data []byte, path ...any) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '"' {
		d.Expect(data, JSONString, path...)
		return ""
	}
	s, ok := unquote(data)
	if !ok {
		d.add("invalid JSON string", path)
	}
	return s
}

// Bool decodes a JSON boolean.
func (d *Decoder) Bool(data []byte, path ...any) bool {
	switch string(bytes.TrimSpace(data)) {
	case "true":
		return true
	case "false":
		return false
	}
	d.Expect(data, JSONBoolean, path...)
	return false
}

// Int decodes a JSON integer: a number without a fractional part (1, 1.0
// and 1e3 are integers) that fits in an int64.
func (d *Decoder) Int(data []byte, path ...any) int64 {
	if typeOf(data)&JSONNumber == 0 {
		d.Expect(data, JSONInteger, path...)
		return 0
	}
	n, problem := parseInt(string(bytes.TrimSpace(data)))
	switch problem {
	case "":
		return n
	case "not an integer":
		d.add("expected integer, got a number with a fractional part", path)
	default:
		d.add(problem, path)
	}
	return 0
}

// Number decodes a JSON number into a float64.
func (d *Decoder) Number(data []byte, path ...any) float64 {
	if typeOf(data)&JSONNumber == 0 {
		d.Expect(data, JSONNumber, path...)
		return 0
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(data)), 64)
	if err != nil {
		d.add("number is out of the range of float64", path)
		return 0
	}
	return f
}

// Raw returns a copy of data, after checking that its JSON type is one of
// want (JSONAny: any type). Generated code uses it for values it keeps as
// json.RawMessage.
func (d *Decoder) Raw(data []byte, want JSONTypes, path ...any) json.RawMessage {
	if !d.Expect(data, want, path...) {
		return nil
	}
	return bytes.Clone(bytes.TrimSpace(data))
}

// parseInt parses a JSON number as an int64. problem is "" on success,
// "not an integer" for a fractional number, or a message for a number out of
// range.
func parseInt(s string) (n int64, problem string) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, ""
	}
	const outOfRange = "integer is out of the range of int64"
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, "not a number"
	}
	if math.IsInf(f, 0) {
		if strings.ContainsAny(s, ".eE") && !isIntegral(s) {
			return 0, "not an integer"
		}
		return 0, outOfRange
	}
	if f != math.Trunc(f) {
		return 0, "not an integer"
	}
	// f is integral but may be rounded: decide exactly when that is cheap.
	if exponentMagnitude(s) <= 400 {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return 0, "not a number"
		}
		if !r.IsInt() {
			return 0, "not an integer"
		}
		if !r.Num().IsInt64() {
			return 0, outOfRange
		}
		return r.Num().Int64(), ""
	}
	if f >= -(1<<63) && f < 1<<63 {
		return int64(f), ""
	}
	return 0, outOfRange
}

// isIntegral reports whether a JSON number literal (possibly huge) has no
// fractional part, when that can be decided cheaply; it answers true when in
// doubt.
func isIntegral(s string) bool {
	if exponentMagnitude(s) > 400 {
		return true
	}
	r, ok := new(big.Rat).SetString(s)
	return !ok || r.IsInt()
}

func exponentMagnitude(s string) int {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return 0
	}
	e := strings.TrimLeft(s[i+1:], "+-")
	if len(e) > 6 {
		return math.MaxInt32
	}
	n, _ := strconv.Atoi(e)
	return n
}

// unquote decodes a JSON string literal (quotes included).
func unquote(lit []byte) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	simple := utf8.Valid(body)
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", false
	}
	return s, true
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string literal starting at i,
// or -1.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at i, or -1.
// It tracks nesting without recursion.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			i = skipString(data, i)
			if i < 0 {
				return -1
			}
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
			if depth < 0 {
				return -1
			}
		case ' ', '\t', '\n', '\r', ',', ':':
			if depth == 0 {
				return -1
			}
			i++
		default:
			// literal or number: consume to the next delimiter
			j := i
			for j < len(data) && !isDelim(data[j]) {
				j++
			}
			if j == i {
				return -1
			}
			i = j
		}
		if depth == 0 {
			return i
		}
	}
	return -1
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}
