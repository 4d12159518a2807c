package types

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ValidationError is one problem with one value of a plugin-defined object.
type ValidationError struct {
	// Path is the RFC 6901 JSON pointer of the offending value, relative to
	// the value that was decoded or validated ("" is that value itself), e.g.
	// "/nested/items/2/port".
	Path string
	// Message says what is wrong, e.g. "must be <= 65535 (got 70000)". It
	// never contains the value of a string (which could be a secret).
	Message string
}

// Error renders the problem as "<path>: <message>", or just the message when
// the problem is with the value as a whole.
func (e *ValidationError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationErrors is every problem found in one value, in the order they
// were found (document order when decoding, schema order when validating).
// Generated UnmarshalJSON and Validate methods return it (never empty) or nil.
type ValidationErrors []*ValidationError

// Error renders one problem per line.
func (es ValidationErrors) Error() string {
	switch len(es) {
	case 0:
		return "no problems"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.As and errors.Is access to each problem.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns es as an error, or nil when es is empty.
func (es ValidationErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Invalid returns a ValidationErrors holding one problem with the value as a
// whole. Generated enum types use it in Validate.
func Invalid(message string) error {
	return ValidationErrors{{Message: message}}
}

// collector is what Decoder and Validator share: a list of problems and
// JSON-pointer rendering.
type collector struct {
	errs ValidationErrors
}

func (c *collector) add(message string, path []any) {
	c.errs = append(c.errs, &ValidationError{Path: Pointer(path...), Message: message})
}

// nest adds the problems of err (typically returned by the UnmarshalJSON or
// Validate method of a nested value) with path prefixed to their paths.
func (c *collector) nest(err error, path []any) {
	if err == nil {
		return
	}
	prefix := Pointer(path...)
	var ves ValidationErrors
	var ve *ValidationError
	switch {
	case errors.As(err, &ves):
		for _, e := range ves {
			c.errs = append(c.errs, &ValidationError{Path: prefix + e.Path, Message: e.Message})
		}
	case errors.As(err, &ve):
		c.errs = append(c.errs, &ValidationError{Path: prefix + ve.Path, Message: ve.Message})
	default:
		c.errs = append(c.errs, &ValidationError{Path: prefix, Message: err.Error()})
	}
}

// Pointer renders path segments as an RFC 6901 JSON pointer: a string
// segment is a property name (escaped: "~" as "~0", "/" as "~1"), an int
// segment an array index. No segments is "" (the whole document).
func Pointer(path ...any) string {
	if len(path) == 0 {
		return ""
	}
	var b strings.Builder
	for _, seg := range path {
		b.WriteByte('/')
		switch s := seg.(type) {
		case string:
			if strings.ContainsAny(s, "~/") {
				s = strings.ReplaceAll(s, "~", "~0")
				s = strings.ReplaceAll(s, "/", "~1")
			}
			b.WriteString(s)
		case int:
			b.WriteString(strconv.Itoa(s))
		default:
			fmt.Fprint(&b, s)
		}
	}
	return b.String()
}
