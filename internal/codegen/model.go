package codegen

import (
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
)

// kind is the Go representation of a schema.
type kind uint8

const (
	tString   kind = iota // string
	tInt                  // int64
	tNumber               // float64
	tBool                 // bool
	tPassword             // types.Password
	tRaw                  // json.RawMessage
	tStruct               // a generated struct type
	tEnum                 // a generated enum type (string, int64 or float64 based)
	tSlice                // []elem
	tMap                  // map[string]elem
	tSupplier             // types.CredentialsSupplier and friends
)

// gotype is the Go type chosen for one schema, with the constraints that
// Validate checks on its values.
type gotype struct {
	kind     kind
	named    *named   // tStruct, tEnum
	elem     *gotype  // tSlice, tMap
	supplier string   // tSupplier: the type name in sdk/types
	rawTypes []string // tRaw: the JSON types allowed ("integer", "null", ...); nil: any
	closed   bool     // tMap: no property is allowed (additionalProperties: false, no properties)
	c        constraints
	ptr      string // JSON pointer of the schema
}

// constraints are the validation keywords that apply to a value.
type constraints struct {
	minLength, maxLength *int
	pattern              string
	hasPattern           bool
	minimum, maximum     *big.Rat // nil: none
	exMinimum, exMaximum *big.Rat
	multipleOf           *big.Rat
	minItems, maxItems   *int
	uniqueItems          bool
	minProps, maxProps   *int
	requiredKeys         []string // map keys that must be present
	enumJSON             []string // canonical JSON of the allowed values, when no Go enum type represents them
	hasEnumJSON          bool
}

// named is a generated named type: a struct or an enum.
type named struct {
	name string
	ptr  string // JSON pointer of the schema
	top  string // the definition whose file holds the type
	doc  []string

	isEnum bool
	// struct
	fields     []*field
	closed     bool     // additionalProperties: false: unknown properties are rejected
	extra      *gotype  // the type of undeclared properties when they are kept (nil when closed)
	extraName  string   // the Go name of the field that keeps them
	reqExtra   []string // required properties that are not declared (looked up in extra)
	untaggable bool     // some property name cannot be spelled in a struct tag
	// enum
	base   kind // tString, tInt, tNumber
	values []enumValue

	// nameField is the definition's "nameField" (repository and source
	// config definitions; empty elsewhere).
	nameField string

	// analysis
	checks bool // Validate has something to check
	secret bool // holds a Password or a credentials supplier
}

type field struct {
	json     string
	name     string
	t        *gotype
	required bool
	pointer  bool // *T: optional (nil = absent), or required but breaking a cycle of struct values
	doc      []string
	ptr      string
	tagged   bool // the JSON name is spelled in the struct tag (else MarshalJSON writes it)
}

type enumValue struct {
	name  string
	value any // string, int64 or float64
	json  string
}

// location is where a schema sits: its definition, its JSON pointer from the
// root of schema.json, and the name a named type created there gets.
type location struct {
	top  string
	ptr  string
	name string
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (l location) child(keyword, key, nameSeg string) location {
	p := l.ptr + "/" + keyword
	if key != "" || keyword == "properties" || keyword == "definitions" || keyword == "$defs" {
		p += "/" + escapePointer(key)
	}
	return location{top: l.top, ptr: p, name: l.name + nameSeg}
}

// platformAPI starts every $ref into the Delphix platform API; the
// documented types are under platformPrefix.
const (
	platformAPI    = "https://delphix.com/platform/api#"
	platformPrefix = platformAPI + "/definitions/"
)

var platformTypes = map[string]string{
	"credentialsSupplier":         "CredentialsSupplier",
	"keyCredentialsSupplier":      "KeyCredentialsSupplier",
	"passwordCredentialsSupplier": "PasswordCredentialsSupplier",
}

// builder turns the six definitions into named Go types.
type builder struct {
	file     string
	defs     map[string]*node
	warnings diag.List
	errs     diag.List

	types   []*named
	byNode  map[*node]*gotype
	merged  map[*node]*node // allOf: the merged schema built for a node
	active  map[*node]bool  // schemas being built (to detect $ref cycles without a named type)
	global  *namespace
	topType map[string]*named
}

func (b *builder) warn(ptr, format string, args ...any) {
	p := diag.Warningf(b.file, 0, 0, format, args...)
	p.Pointer = ptr
	b.warnings = append(b.warnings, p)
}

func (b *builder) fail(ptr, format string, args ...any) {
	p := diag.Errorf(b.file, 0, 0, format, args...)
	p.Pointer = ptr
	b.errs = append(b.errs, p)
}

// anyType is json.RawMessage accepting any JSON value.
func anyType(ptr string) *gotype { return &gotype{kind: tRaw, ptr: ptr} }

// build returns the Go type of schema n at l (cached per schema, so that a
// $ref target has one type wherever it is used).
func (b *builder) build(n *node, l location) *gotype {
	if t, ok := b.byNode[n]; ok {
		return t
	}
	if b.active[n] {
		b.warn(l.ptr, "the $ref chain at this schema refers back to itself without an object in between; kept as raw JSON")
		return anyType(l.ptr)
	}
	b.active[n] = true
	t := b.buildSchema(n, l)
	delete(b.active, n)
	b.byNode[n] = t
	return t
}

// schemaTypes returns the "type" keyword as a list.
func schemaTypes(n *node) []string {
	t := n.get("type")
	if t == nil {
		return nil
	}
	switch t.kind {
	case kString:
		return []string{t.str}
	case kArray:
		var out []string
		for _, it := range t.items {
			if it.kind == kString {
				out = append(out, it.str)
			}
		}
		return out
	}
	return nil
}

func hasProperties(n *node) bool {
	p := n.get("properties")
	return p != nil && p.kind == kObject && len(p.members) > 0
}

// ignoredKeywords are the validation keywords that generated code does not
// enforce; each gives a warning (the data they describe is still kept).
var ignoredKeywords = []string{"not", "if", "then", "else", "dependencies", "dependentRequired", "dependentSchemas", "propertyNames", "contains", "additionalItems", "unevaluatedProperties", "unevaluatedItems"}

func (b *builder) warnIgnored(n *node, l location) {
	for _, k := range ignoredKeywords {
		if n.has(k) {
			b.warn(l.ptr+"/"+k, "the %q keyword is not enforced by the generated code", k)
		}
	}
}

func (b *builder) buildSchema(n *node, l location) *gotype {
	switch n.kind {
	case kBool:
		if !n.boolean {
			b.warn(l.ptr, "the schema false allows no value; the generated code keeps any value as raw JSON and does not reject it")
		}
		return anyType(l.ptr)
	case kObject:
	default:
		b.warn(l.ptr, "a schema must be an object or a boolean; kept as raw JSON")
		return anyType(l.ptr)
	}
	if ref := n.get("$ref"); ref != nil {
		if ref.kind != kString {
			b.warn(l.ptr+"/$ref", "$ref is not a string; kept as raw JSON")
			return anyType(l.ptr)
		}
		return b.ref(ref.str, l)
	}
	b.warnIgnored(n, l)
	if t, ok := b.buildCombined(n, l); ok {
		return t
	}
	ts := schemaTypes(n)
	if len(ts) > 1 {
		b.warn(l.ptr+"/type", "a list of types (%s) has no single Go type; the value is kept as raw JSON (json.RawMessage) and only its JSON type is checked", strings.Join(ts, ", "))
		t := anyType(l.ptr)
		t.rawTypes = ts
		b.enum(n, l, t)
		return t
	}
	typ := ""
	if len(ts) == 1 {
		typ = ts[0]
	} else {
		typ = inferType(n)
	}
	return b.buildTyped(n, l, typ)
}

// buildCombined is the type of a schema with allOf, oneOf or anyOf, when
// that decides it (ok): the one part of an allOf of one, the merged object
// of an allOf, raw JSON where the parts cannot be merged or are
// alternatives. An object with properties of its own next to oneOf/anyOf
// is generated from them (not ok), with a warning.
func (b *builder) buildCombined(n *node, l location) (_ *gotype, ok bool) {
	if a := n.get("allOf"); a != nil && a.kind == kArray && len(a.items) == 1 && !hasOwnAssertions(n) {
		// allOf: [{$ref}] next to annotations only: the type of the one part
		return b.build(a.items[0], l.child("allOf", "0", "")), true
	}
	if n.has("allOf") {
		m, reason := b.mergeAllOf(n, l)
		if m != nil {
			return b.buildObject(m, l, n), true
		}
		b.warn(l.ptr+"/allOf", "allOf cannot be merged into one object (%s); the value is kept as raw JSON (json.RawMessage) and is not validated", reason)
		return anyType(l.ptr), true
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if n.has(k) {
			if hasProperties(n) {
				b.warn(l.ptr+"/"+k, "%s is not enforced: the object is generated from its own properties", k)
				return nil, false
			}
			return b.rawWithWarning(n, l, k), true
		}
	}
	return nil, false
}

// buildTyped is the type of a schema of the one JSON type typ (declared or
// inferred; "" when neither): a scalar with its constraints and enum, an
// array, an object, or raw JSON.
func (b *builder) buildTyped(n *node, l location, typ string) *gotype {
	switch typ {
	case "string":
		t := &gotype{kind: tString, ptr: l.ptr}
		if f := n.text("format"); f == "password" {
			t.kind = tPassword
		}
		b.stringConstraints(n, l, t)
		b.enum(n, l, t)
		return t
	case "integer", "number":
		t := &gotype{kind: tInt, ptr: l.ptr}
		if typ == "number" {
			t.kind = tNumber
		}
		b.numberConstraints(n, l, t)
		b.enum(n, l, t)
		return t
	case "boolean":
		t := &gotype{kind: tBool, ptr: l.ptr}
		b.enum(n, l, t)
		return t
	case "null":
		t := anyType(l.ptr)
		t.rawTypes = []string{"null"}
		return t
	case "array":
		return b.buildArray(n, l)
	case "object":
		return b.buildObject(n, l)
	}
	// no type and nothing to infer it from: any JSON value
	for _, k := range []string{"minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems"} {
		if n.has(k) {
			b.warn(l.ptr+"/"+k, "%s is not enforced: the schema declares no type, so the value is kept as raw JSON", k)
		}
	}
	t := anyType(l.ptr)
	b.enum(n, l, t)
	return t
}

// hasOwnAssertions reports whether a schema has keywords other than allOf
// and annotations.
func hasOwnAssertions(n *node) bool {
	for _, m := range n.members {
		switch m.key {
		case "allOf", "description", "prettyName", "title", "default", "examples", "$comment", "dxFormProperties", "ordering":
		default:
			return true
		}
	}
	return false
}

// inferType guesses the type of a schema without "type" from its keywords
// that only make sense for one type (properties -> object, items -> array,
// enum/const values of one type).
func inferType(n *node) string {
	switch {
	case n.has("properties") || n.has("additionalProperties") || n.has("required"):
		return "object"
	case n.has("items"):
		return "array"
	}
	var vals []*node
	if e := n.get("enum"); e != nil && e.kind == kArray {
		vals = e.items
	} else if c := n.get("const"); c != nil {
		vals = []*node{c}
	}
	typ := ""
	for _, v := range vals {
		var t string
		switch v.kind {
		case kString:
			t = "string"
		case kNumber:
			t = "number"
			if isIntegerLiteral(v.str) {
				t = "integer"
			}
		default:
			return ""
		}
		switch {
		case typ == "":
			typ = t
		case typ != t && (typ == "string" || t == "string"):
			return ""
		case typ != t:
			typ = "number"
		}
	}
	return typ
}

func (b *builder) rawWithWarning(n *node, l location, keyword string) *gotype {
	b.warn(l.ptr+"/"+keyword, "%s has no Go equivalent; the value is kept as raw JSON (json.RawMessage) and is not validated", keyword)
	return anyType(l.ptr)
}

func (b *builder) ref(ref string, l location) *gotype {
	if strings.HasPrefix(ref, platformPrefix) {
		name := strings.TrimPrefix(ref, platformPrefix)
		if tn, ok := platformTypes[name]; ok {
			return &gotype{kind: tSupplier, supplier: tn, ptr: l.ptr}
		}
		b.warn(l.ptr+"/$ref", "%q is not a documented Delphix platform type; the value is kept as raw JSON", ref)
		t := anyType(l.ptr)
		t.rawTypes = []string{"object"}
		return t
	}
	if strings.HasPrefix(ref, platformAPI) {
		// dvp makes every $ref into the platform API an opaque object,
		// whatever follows the '#' (its own tests use
		// https://delphix.com/platform/api#credentialsSupplier).
		b.warn(l.ptr+"/$ref", "%q is not a documented Delphix platform type (those are %scredentialsSupplier, keyCredentialsSupplier and passwordCredentialsSupplier); the value is kept as a raw JSON object", ref, platformPrefix)
		t := anyType(l.ptr)
		t.rawTypes = []string{"object"}
		return t
	}
	if !strings.HasPrefix(ref, "#") {
		b.warn(l.ptr+"/$ref", "the $ref %q is not local to schema.json; the value is kept as raw JSON and is not validated", ref)
		return anyType(l.ptr)
	}
	target, tl, err := b.resolve(ref, l.top)
	if err != nil {
		b.fail(l.ptr+"/$ref", "cannot resolve $ref %q: %v", ref, err)
		return anyType(l.ptr)
	}
	return b.build(target, tl)
}

// resolve finds the schema a local $ref designates: "#/definitions/x" is
// relative to the definition that holds the $ref; "#/<definition>/..." (one
// of the six) is relative to schema.json.
func (b *builder) resolve(ref, top string) (*node, location, error) {
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return nil, location{}, err
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, location{}, fmt.Errorf("only JSON-pointer fragments (#/...) are supported")
	}
	var segs []string
	if frag != "" {
		for _, s := range strings.Split(frag[1:], "/") {
			segs = append(segs, strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~"))
		}
	}
	if len(segs) > 0 {
		if _, ok := b.defs[segs[0]]; ok {
			top, segs = segs[0], segs[1:]
		}
	}
	cur := b.defs[top]
	l := location{top: top, ptr: "/" + top, name: b.topType[top].name}
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		switch cur.kind {
		case kObject:
			next := cur.get(s)
			if next == nil {
				return nil, location{}, fmt.Errorf("%s has no member %q", l.ptr, s)
			}
			l.ptr += "/" + escapePointer(s)
			cur = next
			switch s {
			case "properties", "definitions", "$defs", "patternProperties":
				if i+1 < len(segs) && cur.kind == kObject {
					// the next segment is a name, which gives the type-name piece
					i++
					next := cur.get(segs[i])
					if next == nil {
						return nil, location{}, fmt.Errorf("%s has no member %q", l.ptr, segs[i])
					}
					l.ptr += "/" + escapePointer(segs[i])
					l.name += segment(segs[i])
					cur = next
				}
			case "items":
				l.name += "Item"
			case "additionalProperties":
				l.name += "Value"
			default:
				l.name += segment(s)
			}
		case kArray:
			idx, err := strconv.Atoi(s)
			if err != nil || idx < 0 || idx >= len(cur.items) {
				return nil, location{}, fmt.Errorf("%s has no item %q", l.ptr, s)
			}
			l.ptr += "/" + s
			l.name += s
			cur = cur.items[idx]
		default:
			return nil, location{}, fmt.Errorf("%s is not an object or an array", l.ptr)
		}
	}
	return cur, l, nil
}

// register names a new named type.
func (b *builder) register(nt *named) {
	nt.name, _ = b.global.take(nt.name)
	b.types = append(b.types, nt)
}

func (b *builder) buildArray(n *node, l location) *gotype {
	t := &gotype{kind: tSlice, ptr: l.ptr}
	items := n.get("items")
	switch {
	case items == nil:
		t.elem = anyType(l.ptr + "/items")
	case items.kind == kArray:
		b.warn(l.ptr+"/items", "tuple items (an array of schemas) are not supported; the items are kept as raw JSON and not validated")
		t.elem = anyType(l.ptr + "/items")
	default:
		t.elem = b.build(items, l.child("items", "", "Item"))
	}
	t.c.minItems = b.count(n, l, "minItems")
	t.c.maxItems = b.count(n, l, "maxItems")
	if u := n.get("uniqueItems"); u != nil && u.kind == kBool && u.boolean {
		t.c.uniqueItems = true
	}
	b.enum(n, l, t)
	return t
}

// requiredNames reads "required".
func requiredNames(n *node) []string {
	var out []string
	if r := n.get("required"); r != nil && r.kind == kArray {
		for _, it := range r.items {
			if it.kind == kString {
				out = append(out, it.str)
			}
		}
	}
	return out
}

// buildObject gives an object with properties a struct type, and an object
// without properties a map.
func (b *builder) buildObject(n *node, l location, alias ...*node) *gotype {
	if hasProperties(n) {
		nt := &named{name: l.name, ptr: l.ptr, top: l.top}
		b.register(nt)
		t := &gotype{kind: tStruct, named: nt, ptr: l.ptr}
		b.byNode[n] = t
		for _, a := range alias {
			b.byNode[a] = t
		}
		b.fillStruct(nt, n, l)
		b.enum(n, l, t)
		return t
	}
	t := &gotype{kind: tMap, ptr: l.ptr}
	ap := n.get("additionalProperties")
	switch {
	case ap == nil || ap.kind == kBool && ap.boolean:
		t.elem = anyType(l.ptr + "/additionalProperties")
	case ap.kind == kBool:
		t.elem = anyType(l.ptr + "/additionalProperties")
		t.closed = true
		if n.has("patternProperties") {
			t.closed = false
		}
	default:
		t.elem = b.build(ap, l.child("additionalProperties", "", "Value"))
	}
	if n.has("patternProperties") {
		b.warn(l.ptr+"/patternProperties", "patternProperties is not enforced; such properties are kept")
	}
	t.c.minProps = b.count(n, l, "minProperties")
	t.c.maxProps = b.count(n, l, "maxProperties")
	t.c.requiredKeys = requiredNames(n)
	b.enum(n, l, t)
	return t
}

// reservedFields are the names of the methods and the field that generated
// structs have; a property whose Go name is one of them is renamed.
var reservedFields = []string{"Validate", "UnmarshalJSON", "MarshalJSON", "LogValue", "AdditionalProperties"}

func (b *builder) fillStruct(nt *named, n *node, l location) {
	if nt.doc == nil {
		nt.doc = docLines(n, nil)
	}
	props := n.get("properties")
	required := map[string]bool{}
	for _, r := range requiredNames(n) {
		required[r] = true
	}
	ns := newNamespace(reservedFields...)
	declared := map[string]bool{}
	if props != nil && props.kind == kObject {
		for _, m := range props.members {
			declared[m.key] = true
			nt.fields = append(nt.fields, b.structField(nt, ns, m, l, required[m.key]))
		}
	}
	b.structExtra(nt, n, l)
	for _, r := range requiredNames(n) {
		if declared[r] {
			continue
		}
		if nt.closed {
			b.warn(l.ptr+"/required", "required property %q is not declared and additionalProperties is false: no value can be valid; not enforced", r)
			continue
		}
		nt.reqExtra = append(nt.reqExtra, r)
	}
	for _, k := range []string{"minProperties", "maxProperties"} {
		if n.has(k) {
			b.warn(l.ptr+"/"+k, "%s is not enforced on an object with declared properties", k)
		}
	}
}

// structField is the field of nt for the declared property m: its Go name
// (taken in ns, with a warning when it had to change), type, tag and doc.
func (b *builder) structField(nt *named, ns *namespace, m member, l location, required bool) *field {
	pl := location{top: l.top, ptr: l.ptr + "/properties/" + escapePointer(m.key), name: nt.name + segment(m.key)}
	name, note := goName(m.key)
	if note != "" {
		b.warn(pl.ptr, "property %q: %s; its Go name is %s", m.key, note, name)
	}
	final, renamed := ns.take(name)
	if renamed {
		why := "the Go name of an earlier property"
		for _, r := range reservedFields {
			if r == name {
				why = "the name of a generated method or field"
			}
		}
		b.warn(pl.ptr, "property %q: its Go name %s is %s; it is named %s", m.key, name, why, final)
	}
	ft := b.build(m.value, pl)
	f := &field{json: m.key, name: final, t: ft, required: required, ptr: pl.ptr, tagged: validTagName(m.key) && m.key != "-"}
	if m.key == "-" {
		f.tagged = true // spelled "-," in the tag
	}
	if !f.tagged {
		nt.untaggable = true
	}
	f.doc = docLines(m.value, b.refTarget(m.value, l.top))
	if name != final || note != "" || !f.tagged {
		f.doc = append(f.doc, fmt.Sprintf("JSON name: %q.", m.key))
	}
	switch ft.kind {
	case tSlice, tMap, tRaw:
	default:
		f.pointer = !f.required
	}
	return f
}

// structExtra sets what nt keeps of the members it does not declare, from
// additionalProperties and patternProperties: any JSON value, values of one
// schema, or none (closed).
func (b *builder) structExtra(nt *named, n *node, l location) {
	ap := n.get("additionalProperties")
	switch {
	case ap == nil || ap.kind == kBool && ap.boolean:
		nt.extra = anyType(l.ptr + "/additionalProperties")
	case ap.kind == kBool:
		nt.closed = true
		if n.has("patternProperties") {
			nt.closed = false
			nt.extra = anyType(l.ptr + "/patternProperties")
		}
	default:
		nt.extra = b.build(ap, location{top: l.top, ptr: l.ptr + "/additionalProperties", name: nt.name + "Value"})
	}
	if n.has("patternProperties") {
		b.warn(l.ptr+"/patternProperties", "patternProperties is not enforced; such properties are kept in AdditionalProperties")
	}
	if nt.extra != nil {
		nt.extraName = "AdditionalProperties"
	}
}

// refTarget follows the local $ref of a property schema (for its
// documentation), or returns nil.
func (b *builder) refTarget(n *node, top string) *node {
	r := n.get("$ref")
	if r == nil || r.kind != kString || !strings.HasPrefix(r.str, "#") {
		return nil
	}
	t, _, err := b.resolve(r.str, top)
	if err != nil {
		return nil
	}
	return t
}
