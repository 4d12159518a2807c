package pycompat

import (
	"encoding/json"
	"math"
	"testing"
)

// Expected strings are what CPython 3.11 prints for the same values.
func TestReprString(t *testing.T) {
	for in, want := range map[string]string{
		"abc":        `'abc'`,
		"it's":       `"it's"`,
		`say "hi"`:   `'say "hi"'`,
		`both '"`:    `'both \'"'`,
		`a\b`:        `'a\\b'`,
		"tab\there":  `'tab\there'`,
		"nl\n\r":     `'nl\n\r'`,
		"\x00\x7f":   `'\x00\x7f'`,
		"é ü 中":      `'é ü 中'`,
		"\u00a0":     `'\xa0'`,
		"\u200b":     `'\u200b'`,
		"\U0001F600": "'\U0001F600'",
		"\U000E0001": `'\U000e0001'`,
		"":           `''`,
	} {
		if got := ReprString(in); got != want {
			t.Errorf("ReprString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReprFloat(t *testing.T) {
	for in, want := range map[float64]string{
		1:                      "1.0",
		1.5:                    "1.5",
		-0.5:                   "-0.5",
		100000:                 "100000.0",
		1e16:                   "1e+16",
		1e15:                   "1000000000000000.0",
		1.5e300:                "1.5e+300",
		0.0001:                 "0.0001",
		0.00001:                "1e-05",
		123456789.125:          "123456789.125",
		math.Inf(1):            "inf",
		math.Inf(-1):           "-inf",
		0.30000000000000004:    "0.30000000000000004",
		5e-324:                 "5e-324",
		1.7976931348623157e308: "1.7976931348623157e+308",
	} {
		if got := ReprFloat(in); got != want {
			t.Errorf("ReprFloat(%v) = %s, want %s", in, got, want)
		}
	}
	if got := ReprFloat(math.NaN()); got != "nan" {
		t.Errorf("NaN: %s", got)
	}
}

func TestRepr(t *testing.T) {
	v := map[string]any{"b": []any{json.Number("1"), json.Number("2.50"), true, nil}, "a": "x"}
	if got := Repr(v, nil, 0); got != `{'a': 'x', 'b': [1, 2.5, True, None]}` {
		t.Errorf("sorted: %s", got)
	}
	keys := func(path []string) []string {
		if len(path) == 0 {
			return []string{"b", "a"}
		}
		return nil
	}
	if got := Repr(v, keys, 0); got != `{'b': [1, 2.5, True, None], 'a': 'x'}` {
		t.Errorf("ordered: %s", got)
	}
	if got := Repr([]any{"aaaaaaaaaa", "bbbbbbbbbb"}, nil, 10); got != `['aaaaaaaa...` {
		t.Errorf("truncated: %s", got)
	}
	for n, want := range map[json.Number]string{
		"1e400": "inf", "-1e400": "-inf", "NaN": "nan", "Infinity": "inf", "1E5": "100000.0", "0010": "10", "-0": "0",
		FloatNumber(math.Inf(1)): "inf", FloatNumber(math.NaN()): "nan", FloatNumber(2.5): "2.5",
	} {
		if got := ReprNumber(n); got != want {
			t.Errorf("ReprNumber(%s) = %s, want %s", n, got, want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	// Offsets and reasons of Python's bytes.decode('utf-8').
	for in, want := range map[string]struct {
		off    int
		reason string
	}{
		"\xff":             {0, "invalid start byte"},
		"a\x80":            {1, "invalid start byte"},
		"\xe2\x28\xa1":     {0, "invalid continuation byte"},
		"ok\xe2\x82":       {2, "unexpected end of data"},
		"\xed\xa0\x80":     {0, "invalid continuation byte"},
		"\xc0\xaf":         {0, "invalid start byte"},
		"\xf4\x90\x80\x80": {0, "invalid continuation byte"},
		"\xe0\x80\x80":     {0, "invalid continuation byte"},
	} {
		off, reason, bad := InvalidUTF8([]byte(in))
		if !bad || off != want.off || reason != want.reason {
			t.Errorf("%q: %d %q %v, want %d %q", in, off, reason, bad, want.off, want.reason)
		}
	}
	if _, _, bad := InvalidUTF8([]byte("héllo \U0001F600")); bad {
		t.Error("valid text reported invalid")
	}
}
