package pycompat

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// ReprString renders s the way Python 3's repr() renders a str: single
// quotes unless the text contains a single quote and no double quote,
// backslash escapes for quotes, backslashes and non-printable characters.
func ReprString(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' || (r < 0x80 && r > 0x20 && r < 0x7f):
			b.WriteRune(r)
		case !unicode.IsPrint(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// ReprFloat renders f the way Python's repr(float) does: the shortest text
// that round-trips, in positional notation for exponents -5 < e < 16 and
// scientific notation otherwise, always with a '.0' or exponent for
// integral values, and 'inf', '-inf', 'nan' for the specials.
func ReprFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Shortest round-trip digits and decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.2345e+06
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es = "-"
			exp = -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	// Positional notation.
	var s string
	switch {
	case exp < 0:
		s = "0." + strings.Repeat("0", -exp-1) + digits
	case exp+1 >= len(digits):
		s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	default:
		s = digits[:exp+1] + "." + digits[exp+1:]
	}
	return sign + s
}

// Non-finite numbers cannot be json.Number values that the validator can
// parse, so instances carry stand-ins for them (see NumberFor). Each stand-in
// is a finite decimal with the same relevant properties for draft-07
// keywords: not an integer, and beyond every finite double for the
// infinities. Repr maps them back to Python's text.
var (
	posInfNumber = json.Number("1" + strings.Repeat("0", 400) + ".5")
	negInfNumber = json.Number("-1" + strings.Repeat("0", 400) + ".5")
	nanNumber    = json.Number("0.5e-999")
)

// FloatNumber returns the json.Number the validator should see for a Python
// float value: its repr for finite values, a stand-in for inf and nan.
func FloatNumber(f float64) json.Number {
	switch {
	case math.IsNaN(f):
		return nanNumber
	case math.IsInf(f, 1):
		return posInfNumber
	case math.IsInf(f, -1):
		return negInfNumber
	}
	return json.Number(ReprFloat(f))
}

// IsFloatNumber tells whether a json.Number text denotes a Python float
// (it has a fraction or an exponent) rather than an int.
func IsFloatNumber(n json.Number) bool {
	switch n {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	return strings.ContainsAny(string(n), ".eE")
}

// ReprNumber renders a json.Number as Python would render the value json.loads
// produces for it: an int for integer literals, a float otherwise.
func ReprNumber(n json.Number) string {
	switch n {
	case posInfNumber, "Infinity":
		return "inf"
	case negInfNumber, "-Infinity":
		return "-inf"
	case nanNumber, "NaN":
		return "nan"
	}
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		// Python ints print without leading zeros or a '+' sign; JSON and
		// our YAML conversion never produce those, but be safe.
		if i, ok := new(big.Int).SetString(s, 10); ok {
			return i.String()
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return s
	}
	return ReprFloat(f)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// Repr renders a JSON-like Go value (nil, bool, string, json.Number,
// float64, int kinds, []any, map[string]any) as Python's repr() renders
// the equivalent Python value. Map keys are printed in the order given by
// keys when it is non-nil (Python dicts keep insertion order), sorted
// otherwise. The result is truncated to max runes (0 = no limit) with "...".
func Repr(v any, keys func(path []string) []string, max int) string {
	var b strings.Builder
	w := &reprWriter{b: &b, keys: keys, max: max}
	w.write(v, nil)
	s := b.String()
	if max > 0 && len(s) > max {
		// Cut on a rune boundary.
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

type reprWriter struct {
	b    *strings.Builder
	keys func(path []string) []string
	max  int
}

func (w *reprWriter) full() bool { return w.max > 0 && w.b.Len() > w.max }

func (w *reprWriter) write(v any, path []string) {
	if w.full() {
		return
	}
	switch v := v.(type) {
	case nil:
		w.b.WriteString("None")
	case bool:
		if v {
			w.b.WriteString("True")
		} else {
			w.b.WriteString("False")
		}
	case string:
		w.b.WriteString(ReprString(v))
	case json.Number:
		w.b.WriteString(ReprNumber(v))
	case float64:
		w.b.WriteString(ReprFloat(v))
	case float32:
		w.b.WriteString(ReprFloat(float64(v)))
	case int:
		w.b.WriteString(strconv.Itoa(v))
	case int64:
		w.b.WriteString(strconv.FormatInt(v, 10))
	case []any:
		w.b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.b.WriteString(", ")
			}
			w.write(e, append(path[:len(path):len(path)], strconv.Itoa(i)))
			if w.full() {
				return
			}
		}
		w.b.WriteByte(']')
	case map[string]any:
		var ks []string
		if w.keys != nil {
			ks = w.keys(path)
		}
		if len(ks) != len(v) {
			ks = make([]string, 0, len(v))
			for k := range v {
				ks = append(ks, k)
			}
			sort.Strings(ks)
		}
		w.b.WriteByte('{')
		for i, k := range ks {
			if i > 0 {
				w.b.WriteString(", ")
			}
			w.b.WriteString(ReprString(k))
			w.b.WriteString(": ")
			w.write(v[k], append(path[:len(path):len(path)], k))
			if w.full() {
				return
			}
		}
		w.b.WriteByte('}')
	default:
		fmt.Fprintf(w.b, "%v", v)
	}
}
