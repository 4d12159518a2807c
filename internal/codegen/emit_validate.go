package codegen

// The Validate method of a generated type: the schema's constraints that
// decoding does not check (bounds, lengths, patterns, formats, unique
// items, ...), reported with every problem's JSON pointer.

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/dave/jennifer/jen"
)

// emitValidate writes the Validate method of nt.
func (e *fileEmitter) emitValidate(nt *named) {
	f := e.f
	if !nt.checks {
		f.Comment(fmt.Sprintf("// Validate returns nil: the schema (%s) has no constraint\n// beyond those that UnmarshalJSON checks.", nt.ptr))
		f.Func().Add(recv(nt, false)).Id("Validate").Params().Error().Block(jen.Return(jen.Nil()))
		return
	}
	f.Comment(fmt.Sprintf("// Validate checks x against the constraints of its schema\n// (%s) and returns every violation, each with its\n// JSON pointer (types.ValidationErrors), or nil.", nt.ptr))
	body := []jen.Code{jen.Var().Id("v").Qual(typesPath, "Validator")}
	for _, fl := range nt.fields {
		path := []jen.Code{jen.Lit(fl.json)}
		x := xField(fl.name)
		switch {
		case fl.pointer:
			if fl.required {
				body = append(body, jen.Id("v").Dot("Required").Call(x().Op("!=").Nil(), jen.Lit(fl.json)))
			}
			deref := func() *jen.Statement { return jen.Op("*").Add(x()) }
			if cs := e.checks(fl.t, deref, x, path, 1); len(cs) > 0 {
				body = append(body, jen.If(x().Op("!=").Nil()).Block(cs...))
			}
		case nilable(fl.t):
			if fl.required {
				body = append(body, jen.Id("v").Dot("Required").Call(x().Op("!=").Nil(), jen.Lit(fl.json)))
			}
			if cs := e.checks(fl.t, x, x, path, 1); len(cs) > 0 {
				body = append(body, jen.If(x().Op("!=").Nil()).Block(cs...))
			}
		default:
			body = append(body, e.checks(fl.t, x, x, path, 1)...)
		}
	}
	if nt.extra != nil {
		x := xField(nt.extraName)
		for _, r := range nt.reqExtra {
			body = append(body, jen.Id("v").Dot("Required").Call(jen.Qual(typesPath, "HasKey").Call(x(), jen.Lit(r)), jen.Lit(r)))
		}
		if typeChecks(nt.extra) {
			body = append(body, e.mapValues(nt.extra, x, nil, 1)...)
		}
	}
	body = append(body, jen.Return(jen.Id("v").Dot("Err").Call()))
	f.Func().Add(recv(nt, false)).Id("Validate").Params().Error().Block(body...)
}

func vcall(method string, args []jen.Code, path []jen.Code) *jen.Statement {
	return jen.Id("v").Dot(method).Call(append(args, path...)...)
}

// checks validates a value of t. val is the value; rcv is what methods are
// called on (the pointer itself for optional fields).
func (e *fileEmitter) checks(t *gotype, val, rcv func() *jen.Statement, path []jen.Code, depth int) []jen.Code {
	var out []jen.Code
	c := &t.c
	base := t.kind
	if t.kind == tEnum {
		base = t.named.base
		out = append(out, vcall("Nest", []jen.Code{rcv().Dot("Validate").Call()}, path))
	}
	switch base {
	case tString, tPassword:
		out = append(out, e.stringChecks(t, val, path)...)
	case tInt:
		n := val
		if t.kind != tInt {
			n = func() *jen.Statement { return jen.Int64().Call(val()) }
		}
		out = append(out, intBounds(c, n, path)...)
	case tNumber:
		n := val
		if t.kind != tNumber {
			n = func() *jen.Statement { return jen.Float64().Call(val()) }
		}
		out = append(out, floatBounds(c, n, path)...)
	case tStruct:
		if t.named.checks {
			out = append(out, vcall("Nest", []jen.Code{rcv().Dot("Validate").Call()}, path))
		}
	case tSupplier:
		out = append(out, vcall("Nest", []jen.Code{rcv().Dot("Validate").Call()}, path))
	case tSlice:
		out = append(out, e.sliceChecks(t, val, path, depth)...)
	case tMap:
		out = append(out, e.mapChecks(t, val, path, depth)...)
	}
	if c.hasEnumJSON {
		allowed := make([]jen.Code, len(c.enumJSON))
		for i, a := range c.enumJSON {
			allowed[i] = jen.Lit(a)
		}
		out = append(out, vcall("EnumJSON", []jen.Code{val(), jen.Index().String().Values(allowed...)}, path))
	}
	return out
}

// stringChecks are the checks of a string (or of a string enum's or
// password's value): minLength, maxLength, pattern.
func (e *fileEmitter) stringChecks(t *gotype, val func() *jen.Statement, path []jen.Code) []jen.Code {
	var out []jen.Code
	c := &t.c
	s := val
	if t.kind != tString {
		s = func() *jen.Statement { return jen.String().Call(val()) }
	}
	if c.minLength != nil {
		out = append(out, vcall("MinLength", []jen.Code{s(), jen.Lit(*c.minLength)}, path))
	}
	if c.maxLength != nil {
		out = append(out, vcall("MaxLength", []jen.Code{s(), jen.Lit(*c.maxLength)}, path))
	}
	if c.hasPattern {
		out = append(out, vcall("Pattern", []jen.Code{s(), jen.Id(e.patternVar(c.pattern))}, path))
	}
	return out
}

// sliceChecks are the checks of an array: minItems, maxItems, uniqueItems,
// and its items' own checks in a loop.
func (e *fileEmitter) sliceChecks(t *gotype, val func() *jen.Statement, path []jen.Code, depth int) []jen.Code {
	var out []jen.Code
	c := &t.c
	if c.minItems != nil {
		out = append(out, vcall("MinItems", []jen.Code{jen.Len(val()), jen.Lit(*c.minItems)}, path))
	}
	if c.maxItems != nil {
		out = append(out, vcall("MaxItems", []jen.Code{jen.Len(val()), jen.Lit(*c.maxItems)}, path))
	}
	if c.uniqueItems {
		fn := "UniqueItemsJSON"
		switch t.elem.kind {
		case tString, tInt, tNumber, tBool, tPassword, tEnum:
			fn = "UniqueItems"
		}
		out = append(out, jen.Qual(typesPath, fn).Call(append([]jen.Code{jen.Op("&").Id("v"), val()}, path...)...))
	}
	if typeChecks(t.elem) {
		i, it := fmt.Sprintf("i%d", depth), fmt.Sprintf("it%d", depth)
		item := func() *jen.Statement { return jen.Id(it) }
		if body := e.checks(t.elem, item, item, withSeg(path, jen.Id(i)), depth+1); len(body) > 0 {
			out = append(out, jen.For(jen.List(jen.Id(i), jen.Id(it)).Op(":=").Range().Add(val())).Block(body...))
		}
	}
	return out
}

// mapChecks are the checks of a map (an object of additional properties
// only): minProperties, maxProperties, required keys, and its values' own
// checks.
func (e *fileEmitter) mapChecks(t *gotype, val func() *jen.Statement, path []jen.Code, depth int) []jen.Code {
	var out []jen.Code
	c := &t.c
	if c.minProps != nil {
		out = append(out, vcall("MinProperties", []jen.Code{jen.Len(val()), jen.Lit(*c.minProps)}, path))
	}
	if c.maxProps != nil {
		out = append(out, vcall("MaxProperties", []jen.Code{jen.Len(val()), jen.Lit(*c.maxProps)}, path))
	}
	for _, r := range c.requiredKeys {
		out = append(out, vcall("Required", []jen.Code{jen.Qual(typesPath, "HasKey").Call(val(), jen.Lit(r))}, withSeg(path, jen.Lit(r))))
	}
	if typeChecks(t.elem) {
		out = append(out, e.mapValues(t.elem, val, path, depth)...)
	}
	return out
}

// mapValues validates the values of a map in key order.
func (e *fileEmitter) mapValues(elem *gotype, m func() *jen.Statement, path []jen.Code, depth int) []jen.Code {
	k := fmt.Sprintf("k%d", depth)
	item := func() *jen.Statement { return m().Index(jen.Id(k)) }
	body := e.checks(elem, item, item, withSeg(path, jen.Id(k)), depth+1)
	if len(body) == 0 {
		return nil
	}
	return []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(k)).Op(":=").Range().Qual("slices", "Sorted").Call(jen.Qual("maps", "Keys").Call(m()))).Block(body...)}
}

func ratFloat(r *big.Rat) jen.Code {
	f, _ := r.Float64()
	return jen.Lit(f)
}

func intLit(n *big.Int) jen.Code { return jen.Op(n.String()) }

var (
	minInt64 = big.NewInt(math.MinInt64)
	maxInt64 = big.NewInt(math.MaxInt64)
)

func floorRat(r *big.Rat) *big.Int {
	q := new(big.Int)
	m := new(big.Int)
	q.DivMod(r.Num(), r.Denom(), m) // Euclidean: floor for a positive denominator
	return q
}

func ceilRat(r *big.Rat) *big.Int {
	f := floorRat(r)
	if !r.IsInt() {
		f.Add(f, big.NewInt(1))
	}
	return f
}

// intBounds renders minimum, maximum, exclusiveMinimum, exclusiveMaximum and
// multipleOf for an int64 value: exactly, with int64 bounds, whenever the
// bound fits (a fractional bound becomes the nearest integer bound that
// keeps the same values); a bound that every int64 satisfies is dropped; one
// that no int64 satisfies is compared as float64.
func intBounds(c *constraints, n func() *jen.Statement, path []jen.Code) []jen.Code {
	var out []jen.Code
	asFloat := func() *jen.Statement { return jen.Float64().Call(n()) }
	lower := func(min *big.Int, exclusive bool, r *big.Rat) {
		// x >= min (or x > min)
		name := "MinimumInt"
		if exclusive {
			name = "ExclusiveMinimumInt"
		}
		switch {
		case min.Cmp(minInt64) < 0 || min.Cmp(minInt64) == 0 && !exclusive:
			return // always true
		case min.Cmp(maxInt64) > 0 || min.Cmp(maxInt64) == 0 && exclusive:
			out = append(out, vcall(strings.TrimSuffix(name, "Int"), []jen.Code{asFloat(), ratFloat(r)}, path))
		default:
			out = append(out, vcall(name, []jen.Code{n(), intLit(min)}, path))
		}
	}
	upper := func(max *big.Int, exclusive bool, r *big.Rat) {
		name := "MaximumInt"
		if exclusive {
			name = "ExclusiveMaximumInt"
		}
		switch {
		case max.Cmp(maxInt64) > 0 || max.Cmp(maxInt64) == 0 && !exclusive:
			return
		case max.Cmp(minInt64) < 0 || max.Cmp(minInt64) == 0 && exclusive:
			out = append(out, vcall(strings.TrimSuffix(name, "Int"), []jen.Code{asFloat(), ratFloat(r)}, path))
		default:
			out = append(out, vcall(name, []jen.Code{n(), intLit(max)}, path))
		}
	}
	if r := c.minimum; r != nil {
		lower(ceilRat(r), false, r)
	}
	if r := c.exMinimum; r != nil {
		if r.IsInt() {
			lower(r.Num(), true, r)
		} else {
			lower(ceilRat(r), false, r)
		}
	}
	if r := c.maximum; r != nil {
		upper(floorRat(r), false, r)
	}
	if r := c.exMaximum; r != nil {
		if r.IsInt() {
			upper(r.Num(), true, r)
		} else {
			upper(floorRat(r), false, r)
		}
	}
	if r := c.multipleOf; r != nil {
		if r.IsInt() && r.Num().IsInt64() {
			if r.Num().Int64() != 1 {
				out = append(out, vcall("MultipleOfInt", []jen.Code{n(), intLit(r.Num())}, path))
			}
		} else {
			out = append(out, vcall("MultipleOf", []jen.Code{asFloat(), ratFloat(r)}, path))
		}
	}
	return out
}

func floatBounds(c *constraints, n func() *jen.Statement, path []jen.Code) []jen.Code {
	var out []jen.Code
	for _, b := range []struct {
		r    *big.Rat
		name string
	}{{c.minimum, "Minimum"}, {c.exMinimum, "ExclusiveMinimum"}, {c.maximum, "Maximum"}, {c.exMaximum, "ExclusiveMaximum"}, {c.multipleOf, "MultipleOf"}} {
		if b.r != nil {
			out = append(out, vcall(b.name, []jen.Code{n(), ratFloat(b.r)}, path))
		}
	}
	return out
}
