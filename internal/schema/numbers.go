package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/jsonpointer"
)

// Bounds of the JSON numbers of a schema and of a value the validator
// reads. It computes with them exactly (math/big): 1e-999999, nine bytes,
// is a fraction of a million digits, ~0.14 s of CPU each time it is read.
// A number of a schema must also fit a double: the engine stores an
// artifact as Python's json writes it, and a number beyond a double is
// Infinity there, which is not JSON (the stored plugin could no longer be
// read).
const (
	// MaxNumberBytes bounds a number's text.
	MaxNumberBytes = 100
	// MaxNumberExponent bounds the exponent written in a number (1e1000).
	MaxNumberExponent = 1000
)

// numberProblem says why the number n is refused, or "" when it is not;
// finite also refuses a number beyond the range of a double.
func numberProblem(n json.Number, finite bool) string {
	s := string(n)
	if len(s) > MaxNumberBytes {
		return fmt.Sprintf("the number %.24s... has %d characters, more than the %d accepted", s, len(s), MaxNumberBytes)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || e > MaxNumberExponent || e < -MaxNumberExponent {
			return fmt.Sprintf("the number %s has an exponent beyond %d", s, MaxNumberExponent)
		}
	}
	if finite {
		if f, err := strconv.ParseFloat(s, 64); err != nil && math.IsInf(f, 0) {
			return fmt.Sprintf("the number %s is beyond the range of a double (±%g): the engine would store it as Infinity, which is not JSON", s, math.MaxFloat64)
		}
	}
	return ""
}

// checkNumbers refuses a schema holding a number that numberProblem
// refuses (finite), naming the first one in pointer order.
func checkNumbers(v any) error {
	if ptr, why := firstBadNumber(v, "", true); why != "" {
		return fmt.Errorf("%s (at %s); give a number of at most %d characters, with an exponent of at most %d, within the range of a double", why, ptr, MaxNumberBytes, MaxNumberExponent)
	}
	return nil
}

// firstBadNumber finds the first number of v (in pointer order) that
// numberProblem refuses.
func firstBadNumber(v any, ptr string, finite bool) (string, string) {
	switch x := v.(type) {
	case json.Number:
		return ptr, numberProblem(x, finite)
	case []any:
		for i, e := range x {
			if p, why := firstBadNumber(e, ptr+"/"+strconv.Itoa(i), finite); why != "" {
				return p, why
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, why := firstBadNumber(x[k], ptr+jsonpointer.Join(k), finite); why != "" {
				return p, why
			}
		}
	}
	return "", ""
}
