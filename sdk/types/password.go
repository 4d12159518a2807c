package types

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Mask is what a Password (or a credentials supplier) prints instead of its
// value.
const Mask = "[REDACTED]"

// Password is the Go type of a string property with "format": "password".
//
// It never reveals its value when printed or logged: String, GoString,
// Format (every fmt verb, so %v, %+v, %#v, %s, %q, %x) and LogValue
// (log/slog) all give Mask. It encodes to JSON as its real value, because the
// engine needs it. Use Reveal, explicitly, to get the secret.
type Password string

// Reveal returns the password itself.
func (p Password) Reveal() string { return string(p) }

// String returns Mask.
func (p Password) String() string { return Mask }

// GoString returns a masked Go expression.
func (p Password) GoString() string { return `types.Password("` + Mask + `")` }

// Format prints Mask whatever the verb and flags.
func (p Password) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		io.WriteString(f, strconv.Quote(Mask))
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, p.GoString())
	default:
		io.WriteString(f, Mask)
	}
}

// LogValue returns Mask for log/slog.
func (p Password) LogValue() slog.Value { return slog.StringValue(Mask) }

// MarshalJSON encodes the real value, as encoding/json would encode a string.
func (p Password) MarshalJSON() ([]byte, error) { return json.Marshal(string(p)) }

// UnmarshalJSON decodes a JSON string.
func (p *Password) UnmarshalJSON(data []byte) error {
	if err := CheckSyntax(data); err != nil {
		return err
	}
	var d Decoder
	*p = Password(d.String(data))
	return d.Err()
}
