package types

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validator collects the constraint violations of one value. Generated
// Validate methods use it: every check records a problem (with the JSON
// pointer built from its path segments) and never stops, so that Validate
// reports all violations.
type Validator struct {
	collector
}

// Err returns the violations found so far as ValidationErrors, or nil.
func (v *Validator) Err() error { return v.errs.Err() }

// Nest records the problems of err (from the Validate method of the value at
// path) with path prefixed to theirs.
func (v *Validator) Nest(err error, path ...any) { v.nest(err, path) }

// Required records a missing required property unless present.
func (v *Validator) Required(present bool, path ...any) {
	if !present {
		v.add("required property is missing", path)
	}
}

// MinLength checks that s has at least min characters (Unicode code points,
// as JSON Schema counts them).
func (v *Validator) MinLength(s string, min int, path ...any) {
	if n := utf8.RuneCountInString(s); n < min {
		v.add("length must be >= "+strconv.Itoa(min)+" (got "+strconv.Itoa(n)+")", path)
	}
}

// MaxLength checks that s has at most max characters (code points).
func (v *Validator) MaxLength(s string, max int, path ...any) {
	if n := utf8.RuneCountInString(s); n > max {
		v.add("length must be <= "+strconv.Itoa(max)+" (got "+strconv.Itoa(n)+")", path)
	}
}

// Pattern checks that re matches somewhere in s (JSON Schema patterns are
// not anchored).
func (v *Validator) Pattern(s string, re *regexp.Regexp, path ...any) {
	if !re.MatchString(s) {
		v.add("must match the pattern "+strconv.Quote(re.String()), path)
	}
}

func fmtInt(n int64) string     { return strconv.FormatInt(n, 10) }
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// MinimumInt checks x >= min.
func (v *Validator) MinimumInt(x, min int64, path ...any) {
	if x < min {
		v.add("must be >= "+fmtInt(min)+" (got "+fmtInt(x)+")", path)
	}
}

// MaximumInt checks x <= max.
func (v *Validator) MaximumInt(x, max int64, path ...any) {
	if x > max {
		v.add("must be <= "+fmtInt(max)+" (got "+fmtInt(x)+")", path)
	}
}

// ExclusiveMinimumInt checks x > min.
func (v *Validator) ExclusiveMinimumInt(x, min int64, path ...any) {
	if x <= min {
		v.add("must be > "+fmtInt(min)+" (got "+fmtInt(x)+")", path)
	}
}

// ExclusiveMaximumInt checks x < max.
func (v *Validator) ExclusiveMaximumInt(x, max int64, path ...any) {
	if x >= max {
		v.add("must be < "+fmtInt(max)+" (got "+fmtInt(x)+")", path)
	}
}

// MultipleOfInt checks that x is a multiple of m (m > 0).
func (v *Validator) MultipleOfInt(x, m int64, path ...any) {
	if m > 0 && x%m != 0 {
		v.add("must be a multiple of "+fmtInt(m)+" (got "+fmtInt(x)+")", path)
	}
}

// Minimum checks x >= min.
func (v *Validator) Minimum(x, min float64, path ...any) {
	if x < min {
		v.add("must be >= "+fmtFloat(min)+" (got "+fmtFloat(x)+")", path)
	}
}

// Maximum checks x <= max.
func (v *Validator) Maximum(x, max float64, path ...any) {
	if x > max {
		v.add("must be <= "+fmtFloat(max)+" (got "+fmtFloat(x)+")", path)
	}
}

// ExclusiveMinimum checks x > min.
func (v *Validator) ExclusiveMinimum(x, min float64, path ...any) {
	if x <= min {
		v.add("must be > "+fmtFloat(min)+" (got "+fmtFloat(x)+")", path)
	}
}

// ExclusiveMaximum checks x < max.
func (v *Validator) ExclusiveMaximum(x, max float64, path ...any) {
	if x >= max {
		v.add("must be < "+fmtFloat(max)+" (got "+fmtFloat(x)+")", path)
	}
}

// MultipleOf checks that x is a multiple of m (m > 0), with a relative
// tolerance of 1e-9 for the rounding of binary floating point.
func (v *Validator) MultipleOf(x, m float64, path ...any) {
	if m <= 0 {
		return
	}
	q := x / m
	if math.IsInf(q, 0) || math.Abs(q-math.Round(q)) > 1e-9*math.Max(1, math.Abs(q)) {
		v.add("must be a multiple of "+fmtFloat(m)+" (got "+fmtFloat(x)+")", path)
	}
}

// count writes n with the noun in the singular for 1: "1 item", "2 items".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// MinItems checks that an array has at least min items.
func (v *Validator) MinItems(n, min int, path ...any) {
	if n < min {
		v.add("must have at least "+count(min, "item", "items")+" (got "+strconv.Itoa(n)+")", path)
	}
}

// MaxItems checks that an array has at most max items.
func (v *Validator) MaxItems(n, max int, path ...any) {
	if n > max {
		v.add("must have at most "+count(max, "item", "items")+" (got "+strconv.Itoa(n)+")", path)
	}
}

// MinProperties checks that an object has at least min properties.
func (v *Validator) MinProperties(n, min int, path ...any) {
	if n < min {
		v.add("must have at least "+count(min, "property", "properties")+" (got "+strconv.Itoa(n)+")", path)
	}
}

// MaxProperties checks that an object has at most max properties.
func (v *Validator) MaxProperties(n, max int, path ...any) {
	if n > max {
		v.add("must have at most "+count(max, "property", "properties")+" (got "+strconv.Itoa(n)+")", path)
	}
}

func (v *Validator) duplicate(i, j int, path []any) {
	v.add("items "+strconv.Itoa(i)+" and "+strconv.Itoa(j)+" are equal; items must be unique", path)
}

// UniqueItems checks that no two items of a slice of scalars are equal.
func UniqueItems[T comparable](v *Validator, items []T, path ...any) {
	seen := make(map[T]int, len(items))
	for j, it := range items {
		if i, dup := seen[it]; dup {
			v.duplicate(i, j, path)
			continue
		}
		seen[it] = j
	}
}

// UniqueItemsJSON checks that no two items of a slice are equal as JSON
// values (object member order and number spelling do not matter).
func UniqueItemsJSON[T any](v *Validator, items []T, path ...any) {
	seen := make(map[string]int, len(items))
	for j, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			v.add("item "+strconv.Itoa(j)+" cannot be encoded as JSON: "+err.Error(), path)
			continue
		}
		c, err := CanonicalJSON(b)
		if err != nil {
			continue
		}
		if i, dup := seen[c]; dup {
			v.duplicate(i, j, path)
			continue
		}
		seen[c] = j
	}
}

// EnumJSON checks that value, encoded as JSON, equals one of allowed, which
// are canonical JSON texts (see CanonicalJSON). Generated code uses it for
// enums that have no Go enum type (booleans, objects, arrays, mixed types).
func (v *Validator) EnumJSON(value any, allowed []string, path ...any) {
	b, err := json.Marshal(value)
	if err == nil {
		var c string
		if c, err = CanonicalJSON(b); err == nil {
			for _, a := range allowed {
				if a == c {
					return
				}
			}
		}
	}
	v.add("must be one of "+strings.Join(allowed, ", "), path)
}
