package types

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
)

// Ptr returns a pointer to a copy of v: handy for optional properties, which
// generated code represents as pointers (Port: types.Ptr[int64](8080)).
func Ptr[T any](v T) *T { return &v }

// MarshalObject encodes declared (a struct whose fields carry json tags) as
// a JSON object and appends the members of extra, sorted by name. Generated
// MarshalJSON methods use it for objects that keep undeclared properties
// (AdditionalProperties) or have property names that a struct tag cannot
// spell. A name of extra that declared already has is an error.
func MarshalObject[V any](declared any, extra map[string]V) ([]byte, error) {
	b, err := json.Marshal(declared)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("types.MarshalObject: %T does not encode as a JSON object", declared)
	}
	var d Decoder
	taken := map[string]bool{}
	for k := range d.Object(b) {
		taken[k] = true
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := bytes.NewBuffer(make([]byte, 0, len(b)+32*len(keys)))
	out.Write(b[:len(b)-1])
	first := len(taken) == 0
	for _, k := range keys {
		if taken[k] {
			return nil, fmt.Errorf("types.MarshalObject: property %q is both declared and additional", k)
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(extra[k])
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.Write(kb)
		out.WriteByte(':')
		out.Write(vb)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// CanonicalJSON returns a canonical text of the JSON value data: no
// insignificant whitespace, object members sorted by name, numbers written
// the same way whatever their spelling (1, 1.0 and 1e0 are all "1"). Two
// JSON values are equal exactly when their canonical texts are (up to the
// precision of float64 for non-integers).
func CanonicalJSON(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(canonical(v))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func canonical(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return v
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return json.Number(strconv.FormatInt(int64(f), 10))
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case []any:
		for i := range v {
			v[i] = canonical(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = canonical(v[k])
		}
	}
	return v
}

// HasKey reports whether m has the key k (generated Validate methods use it
// for the required properties of maps).
func HasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// LogSlice renders a slice for log/slog as a group keyed by index, each item
// rendered by f. Generated LogValue methods use it for slices of values that
// hold secrets.
func LogSlice[T any](items []T, f func(T) slog.Value) slog.Value {
	attrs := make([]slog.Attr, len(items))
	for i, it := range items {
		attrs[i] = slog.Attr{Key: strconv.Itoa(i), Value: f(it)}
	}
	return slog.GroupValue(attrs...)
}

// LogMap renders a map for log/slog as a group sorted by key, each value
// rendered by f.
func LogMap[V any](m map[string]V, f func(V) slog.Value) slog.Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, len(keys))
	for i, k := range keys {
		attrs[i] = slog.Attr{Key: k, Value: f(m[k])}
	}
	return slog.GroupValue(attrs...)
}
