package codegen

// The value constraints of a schema (string, number, enum) as the
// generated Validate methods enforce them; docs/codegen.md has the rules.

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/sdk/types"
)

func isIntegerLiteral(s string) bool {
	r, ok := parseRat(s)
	return ok && r.IsInt()
}

// parseRat parses a JSON number exactly, refusing absurd exponents.
func parseRat(s string) (*big.Rat, bool) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 400 || e < -400 {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}

// stringConstraints reads minLength, maxLength and pattern.
func (b *builder) stringConstraints(n *node, l location, t *gotype) {
	t.c.minLength = b.count(n, l, "minLength")
	t.c.maxLength = b.count(n, l, "maxLength")
	if p := n.get("pattern"); p != nil && p.kind == kString {
		if _, err := regexp.Compile(p.str); err != nil {
			// dvp accepts any pattern (Python's re has look-around and
			// back-references, RE2 has not), so the schema stays valid and
			// only this check is left out of the generated code; validating
			// schema.json warns about it (docs/validation.md).
			return
		}
		t.c.pattern, t.c.hasPattern = p.str, true
	}
}

// count reads a non-negative integer keyword.
func (b *builder) count(n *node, l location, key string) *int {
	v := n.get(key)
	if v == nil {
		return nil
	}
	r, ok := parseRat(v.str)
	if v.kind != kNumber || !ok || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() || r.Num().Int64() > math.MaxInt32 {
		b.warn(l.ptr+"/"+key, "%s is not a non-negative integer; ignored", key)
		return nil
	}
	c := int(r.Num().Int64())
	return &c
}

func (b *builder) numberConstraints(n *node, l location, t *gotype) {
	for _, k := range []struct {
		key string
		dst **big.Rat
	}{{"minimum", &t.c.minimum}, {"maximum", &t.c.maximum}, {"exclusiveMinimum", &t.c.exMinimum}, {"exclusiveMaximum", &t.c.exMaximum}, {"multipleOf", &t.c.multipleOf}} {
		v := n.get(k.key)
		if v == nil {
			continue
		}
		if v.kind != kNumber {
			b.warn(l.ptr+"/"+k.key, "%s must be a number (draft-07); ignored", k.key)
			continue
		}
		r, ok := parseRat(v.str)
		if !ok {
			b.warn(l.ptr+"/"+k.key, "%s %s is out of range; ignored", k.key, v.str)
			continue
		}
		if k.key == "multipleOf" && r.Sign() <= 0 {
			b.warn(l.ptr+"/"+k.key, "multipleOf must be > 0; ignored")
			continue
		}
		if t.kind == tInt && !effectiveIntBound(k.key, r) {
			continue // every int64 satisfies it
		}
		*k.dst = r
	}
}

// enum reads enum and const. Strings, integers and numbers get a Go enum
// type (a named type with one constant per value); other enums are checked
// by comparing JSON values.
func (b *builder) enum(n *node, l location, t *gotype) {
	e := n.get("enum")
	var vals []*node
	key := "enum"
	switch {
	case e != nil && e.kind == kArray:
		vals = e.items
		if n.has("const") {
			b.warn(l.ptr+"/const", "const next to enum is not enforced")
		}
	case n.has("const"):
		vals = []*node{n.get("const")}
		key = "const"
	default:
		return
	}
	switch t.kind {
	case tString, tInt, tNumber:
		nt := &named{name: l.name, ptr: l.ptr, top: l.top, isEnum: true, base: t.kind, doc: docLines(n, nil)}
		seen := map[any]bool{}
		for i, v := range vals {
			var val any
			switch {
			case t.kind == tString && v.kind == kString:
				val = v.str
			case t.kind == tInt && v.kind == kNumber && isIntegerLiteral(v.str):
				r, _ := parseRat(v.str)
				if !r.Num().IsInt64() {
					b.warn(fmt.Sprintf("%s/%s/%d", l.ptr, key, i), "the value %s is out of the range of int64; dropped", v.str)
					continue
				}
				val = r.Num().Int64()
			case t.kind == tNumber && v.kind == kNumber:
				f, ok := v.float()
				if !ok {
					continue
				}
				val = f
			default:
				b.warn(fmt.Sprintf("%s/%s/%d", l.ptr, key, i), "the value %s can never match a value of the declared type; dropped", string(v.raw))
				continue
			}
			if seen[val] {
				continue
			}
			seen[val] = true
			c, _ := types.CanonicalJSON(v.raw)
			nt.values = append(nt.values, enumValue{value: val, json: c})
		}
		b.register(nt)
		for i := range nt.values {
			nt.values[i].name, _ = b.global.take(nt.name + enumConstWord(nt.values[i].value))
		}
		t.kind, t.named = tEnum, nt
	default:
		t.c.hasEnumJSON = true
		for _, v := range vals {
			c, err := types.CanonicalJSON(v.raw)
			if err == nil {
				t.c.enumJSON = append(t.c.enumJSON, c)
			}
		}
	}
}

// effectiveIntBound reports whether some int64 breaks the bound (the
// others are dropped, so that Validate has nothing to do for them).
func effectiveIntBound(key string, r *big.Rat) bool {
	switch key {
	case "minimum":
		return ceilRat(r).Cmp(minInt64) > 0
	case "exclusiveMinimum":
		return floorRat(r).Cmp(minInt64) >= 0
	case "maximum":
		return floorRat(r).Cmp(maxInt64) < 0
	case "exclusiveMaximum":
		return ceilRat(r).Cmp(maxInt64) <= 0
	case "multipleOf":
		return !(r.IsInt() && r.Num().IsInt64() && r.Num().Int64() == 1)
	}
	return true
}
