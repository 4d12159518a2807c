// Package jsonschemamsg turns the validation errors of
// github.com/santhosh-tekuri/jsonschema/v5 into the messages Python's
// jsonschema 4.17 (the validator the Python dvp uses) prints, with values
// rendered in Python repr style, e.g.
//
//	'srcDir' is a required property
//	'BAD_LANGUAGE' is not one of ['GO']
//	Additional properties are not allowed ('unknown_key' was unexpected)
//	'x' is not valid under any of the given schemas
//
// It is shared by internal/config (plugin_config.yml) and internal/schema
// (schema.json) so that both speak the same dialect.
package jsonschemamsg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/pycompat"
)

// Error is one validation error, worded like jsonschema 4.17.
type Error struct {
	// Keyword is the draft-07 keyword that failed: "type", "enum",
	// "required", "additionalProperties", "anyOf", ..., or "false" for a
	// false schema.
	Keyword string
	// InstancePath holds the unescaped tokens of the failing value's JSON
	// pointer. For "required" and "additionalProperties" it is the object.
	InstancePath []string
	// SchemaURL and SchemaPointer locate the failing keyword in the schema
	// document (SchemaPointer is a JSON pointer such as
	// "/properties/buildNumber/pattern").
	SchemaURL     string
	SchemaPointer string
	// Message is jsonschema 4.17's message.
	Message string
	// Property is the missing property for "required" and the unexpected
	// property for "additionalProperties" (one Error per property).
	Property string
	// Value is the failing instance value; KeywordValue the keyword's value
	// in the schema (the enum list, the pattern, ...).
	Value        any
	KeywordValue any
	// Context holds, for "anyOf" and "oneOf", the errors of every
	// alternative, as jsonschema's ValidationError.context does.
	Context []Error
}

// Pointer returns the JSON pointer of InstancePath.
func (e Error) Pointer() string { return jsonpointer.Join(e.InstancePath...) }

// Translator knows the schema documents (to read keyword values) and the
// key order of the instance (Python dicts keep document order).
type Translator struct {
	// Docs maps a schema document's URL (no fragment) to its decoded
	// content (json.Number for numbers).
	Docs map[string]any
	// Keys returns the keys of the instance object at path in document
	// order; nil means sorted order.
	Keys func(path []string) []string
	// MaxValueLen truncates rendered values in messages (0 = 200 runes).
	MaxValueLen int
}

// Translate flattens err (as returned by (*jsonschema.Schema).Validate) into
// jsonschema-4.17 errors, ordered by instance location and then keyword.
// A non-validation error is returned as is.
func (t *Translator) Translate(err error, instance any) ([]Error, error) {
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	out := t.flatten(ve, instance)
	sortErrors(out)
	return out, nil
}

func sortErrors(errs []Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].InstancePath, errs[j].InstancePath
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return errs[i].Message < errs[j].Message
	})
}

// v5 wrapper messages (pinned v5.3.1 wording).
const (
	msgAllOf   = "allOf failed"
	msgAnyOf   = "anyOf failed"
	msgOneOf   = "oneOf failed"
	msgThen    = "if-then failed"
	msgElse    = "if-else failed"
	msgNot     = "not failed"
	msgFalse   = "not allowed"
	prefixRef  = "doesn't validate with "
	prefixOne  = "valid against schemas at indexes "
	prefixDeps = "property "
)

func (t *Translator) flatten(ve *jsonschema.ValidationError, instance any) []Error {
	switch {
	case ve.Message == "" || ve.Message == msgAllOf || ve.Message == msgThen || ve.Message == msgElse ||
		strings.HasPrefix(ve.Message, prefixRef):
		// Wrappers: jsonschema yields the inner errors directly.
		var out []Error
		for _, c := range ve.Causes {
			out = append(out, t.flatten(c, instance)...)
		}
		return out
	case ve.Message == msgAnyOf || ve.Message == msgOneOf:
		e := t.base(ve, instance, strings.TrimSuffix(ve.Message, " failed"))
		for _, c := range ve.Causes {
			e.Context = append(e.Context, t.flatten(c, instance)...)
		}
		e.Message = fmt.Sprintf("%s is not valid under any of the given schemas", t.repr(e.Value, e.InstancePath))
		return []Error{e}
	case strings.HasPrefix(ve.Message, prefixOne):
		e := t.base(ve, instance, "oneOf")
		var i, j int
		fmt.Sscanf(strings.TrimPrefix(ve.Message, prefixOne), "%d and %d", &i, &j)
		var reprs []string
		if list, ok := e.KeywordValue.([]any); ok {
			for _, k := range []int{j, i} {
				if k >= 0 && k < len(list) {
					reprs = append(reprs, t.repr(list[k], nil))
				}
			}
		}
		e.Message = fmt.Sprintf("%s is valid under each of %s", t.repr(e.Value, e.InstancePath), strings.Join(reprs, ", "))
		return []Error{e}
	case ve.Message == msgNot:
		e := t.base(ve, instance, "not")
		e.Message = fmt.Sprintf("%s should not be valid under %s", t.repr(e.Value, e.InstancePath), t.repr(e.KeywordValue, nil))
		return []Error{e}
	case ve.Message == msgFalse:
		e := t.base(ve, instance, "false")
		e.Message = fmt.Sprintf("False schema does not allow %s", t.repr(e.Value, e.InstancePath))
		return []Error{e}
	}
	keyword := lastToken(ve.KeywordLocation)
	if strings.HasPrefix(ve.Message, prefixDeps) && strings.Contains(ve.Message, " is required, if ") {
		keyword = "dependencies"
	}
	e := t.base(ve, instance, keyword)
	switch keyword {
	case "required":
		return t.required(e)
	case "additionalProperties":
		return t.additional(e)
	case "dependencies":
		// KeywordLocation is .../dependencies/<name>/<i>; the keyword value
		// is the required property.
		toks := jsonpointer.Split(ve.KeywordLocation)
		name := ""
		if len(toks) >= 2 {
			name = toks[len(toks)-2]
		}
		e.Message = fmt.Sprintf("%s is a dependency of %s", t.repr(e.KeywordValue, nil), pycompat.ReprString(name))
		return []Error{e}
	case "minContains":
		e.Keyword = "contains"
		e.Message = fmt.Sprintf("None of %s are valid under the given schema", t.repr(e.Value, e.InstancePath))
		return []Error{e}
	case "additionalItems":
		n := 0
		if items, ok := t.parentSchema(e)["items"].([]any); ok {
			n = len(items)
		}
		var extras []string
		if arr, ok := e.Value.([]any); ok && n <= len(arr) {
			for i, x := range arr[n:] {
				extras = append(extras, t.repr(x, append(clonePath(e.InstancePath), strconv.Itoa(n+i))))
			}
		}
		e.Message = fmt.Sprintf("Additional items are not allowed (%s %s unexpected)", strings.Join(extras, ", "), verb(len(extras)))
		return []Error{e}
	}
	if msg, ok := t.leafMessage(keyword, e); ok {
		e.Message = msg
	} else {
		// A keyword this translator does not know: keep v5's wording.
		e.Message = fmt.Sprintf("%s: %s", t.repr(e.Value, e.InstancePath), ve.Message)
	}
	out := []Error{e}
	if keyword == "type" {
		out = append(out, t.shadowed(e)...)
	}
	return out
}

// leafMessage words a failed keyword that needs no more than the value and
// the keyword's own value.
func (t *Translator) leafMessage(keyword string, e Error) (string, bool) {
	v := t.repr(e.Value, e.InstancePath)
	kv := func() string { return t.repr(e.KeywordValue, nil) }
	switch keyword {
	case "type":
		var types []string
		switch x := e.KeywordValue.(type) {
		case string:
			types = []string{pycompat.ReprString(x)}
		case []any:
			for _, y := range x {
				types = append(types, t.repr(y, nil))
			}
		}
		return fmt.Sprintf("%s is not of type %s", v, strings.Join(types, ", ")), true
	case "enum":
		return fmt.Sprintf("%s is not one of %s", v, kv()), true
	case "const":
		return fmt.Sprintf("%s was expected", kv()), true
	case "minItems", "minLength":
		return v + " is too short", true
	case "maxItems", "maxLength":
		return v + " is too long", true
	case "uniqueItems":
		return v + " has non-unique elements", true
	case "pattern":
		return fmt.Sprintf("%s does not match %s", v, kv()), true
	case "format":
		return fmt.Sprintf("%s is not a %s", v, kv()), true
	case "minimum":
		return fmt.Sprintf("%s is less than the minimum of %s", v, kv()), true
	case "maximum":
		return fmt.Sprintf("%s is greater than the maximum of %s", v, kv()), true
	case "exclusiveMinimum":
		return fmt.Sprintf("%s is less than or equal to the minimum of %s", v, kv()), true
	case "exclusiveMaximum":
		return fmt.Sprintf("%s is greater than or equal to the maximum of %s", v, kv()), true
	case "multipleOf":
		return fmt.Sprintf("%s is not a multiple of %s", v, kv()), true
	case "minProperties":
		return v + " does not have enough properties", true
	case "maxProperties":
		return v + " has too many properties", true
	}
	return "", false
}

// shadowed evaluates the keywords that v5 skips once "type" has failed but
// that jsonschema still applies to the value (it checks every keyword on
// its own): enum and const for any value, and the keywords of the value's
// actual JSON type. Subschema keywords are not re-evaluated.
func (t *Translator) shadowed(typeErr Error) []Error {
	parent := t.parentSchema(typeErr)
	if parent == nil {
		return nil
	}
	val := typeErr.Value
	var out []Error
	add := func(keyword string) {
		e := typeErr
		e.Keyword = keyword
		e.SchemaPointer = jsonpointer.Join(append(jsonpointer.Split(typeErr.SchemaPointer)[:len(jsonpointer.Split(typeErr.SchemaPointer))-1], keyword)...)
		e.KeywordValue = parent[keyword]
		if msg, ok := t.leafMessage(keyword, e); ok {
			e.Message = msg
			out = append(out, e)
		}
	}
	if list, ok := parent["enum"].([]any); ok {
		found := false
		for _, x := range list {
			found = found || jsonEqual(val, x)
		}
		if !found {
			add("enum")
		}
	}
	if c, ok := parent["const"]; ok && !jsonEqual(val, c) {
		add("const")
	}
	switch v := val.(type) {
	case string:
		n := utf8.RuneCountInString(v)
		if lim, ok := intKeyword(parent, "minLength"); ok && n < lim {
			add("minLength")
		}
		if lim, ok := intKeyword(parent, "maxLength"); ok && n > lim {
			add("maxLength")
		}
		if p, ok := parent["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(v) {
				add("pattern")
			}
		}
	case []any:
		if lim, ok := intKeyword(parent, "minItems"); ok && len(v) < lim {
			add("minItems")
		}
		if lim, ok := intKeyword(parent, "maxItems"); ok && len(v) > lim {
			add("maxItems")
		}
		if u, _ := parent["uniqueItems"].(bool); u && !unique(v) {
			add("uniqueItems")
		}
	case map[string]any:
		if lim, ok := intKeyword(parent, "minProperties"); ok && len(v) < lim {
			add("minProperties")
		}
		if lim, ok := intKeyword(parent, "maxProperties"); ok && len(v) > lim {
			add("maxProperties")
		}
	case bool, nil:
	default:
		x, ok := toRat(val)
		if !ok {
			break
		}
		cmp := func(kw string) (int, bool) {
			b, ok := toRat(parent[kw])
			if !ok {
				return 0, false
			}
			return x.Cmp(b), true
		}
		if c, ok := cmp("minimum"); ok && c < 0 {
			add("minimum")
		}
		if c, ok := cmp("maximum"); ok && c > 0 {
			add("maximum")
		}
		if c, ok := cmp("exclusiveMinimum"); ok && c <= 0 {
			add("exclusiveMinimum")
		}
		if c, ok := cmp("exclusiveMaximum"); ok && c >= 0 {
			add("exclusiveMaximum")
		}
		if m, ok := toRat(parent["multipleOf"]); ok && m.Sign() != 0 && !new(big.Rat).Quo(x, m).IsInt() {
			add("multipleOf")
		}
	}
	return out
}

func intKeyword(schema map[string]any, kw string) (int, bool) {
	r, ok := toRat(schema[kw])
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return int(r.Num().Int64()), true
}

// toRat converts a JSON number (json.Number or a Go number; not a bool) to
// an exact rational. Literals are bounded by the callers (Python-style
// float conversion), so this cannot blow up.
func toRat(v any) (*big.Rat, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		s = fmt.Sprint(x)
	default:
		return nil, false
	}
	if len(s) > 1000 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// jsonEqual is jsonschema's equality: booleans differ from numbers, numbers
// compare by value (1 == 1.0), containers element-wise.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	ra, ok1 := toRat(a)
	rb, ok2 := toRat(b)
	return ok1 && ok2 && ra.Cmp(rb) == 0
}

func unique(list []any) bool {
	for i := range list {
		for j := 0; j < i; j++ {
			if jsonEqual(list[i], list[j]) {
				return false
			}
		}
	}
	return true
}

func verb(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// base fills the fields common to all errors.
func (t *Translator) base(ve *jsonschema.ValidationError, instance any, keyword string) Error {
	url, frag, _ := strings.Cut(ve.AbsoluteKeywordLocation, "#")
	e := Error{
		Keyword: keyword,
		// Never nil: repr tells instance values (non-nil path) from
		// schema values (nil path) by it.
		InstancePath:  append([]string{}, jsonpointer.Split(ve.InstanceLocation)...),
		SchemaURL:     url,
		SchemaPointer: frag,
	}
	e.Value, _ = Lookup(instance, e.InstancePath)
	if doc, ok := t.Docs[url]; ok {
		e.KeywordValue, _ = Lookup(doc, jsonpointer.Split(frag))
	}
	return e
}

// parentSchema returns the schema object holding the failing keyword.
func (t *Translator) parentSchema(e Error) map[string]any {
	doc, ok := t.Docs[e.SchemaURL]
	if !ok {
		return nil
	}
	toks := jsonpointer.Split(e.SchemaPointer)
	if len(toks) == 0 {
		return nil
	}
	v, _ := Lookup(doc, toks[:len(toks)-1])
	m, _ := v.(map[string]any)
	return m
}

func (t *Translator) required(e Error) []Error {
	obj, _ := e.Value.(map[string]any)
	list, _ := e.KeywordValue.([]any)
	var out []Error
	for _, x := range list {
		name, ok := x.(string)
		if !ok {
			continue
		}
		if _, present := obj[name]; present {
			continue
		}
		r := e
		r.Property = name
		r.Message = fmt.Sprintf("%s is a required property", pycompat.ReprString(name))
		out = append(out, r)
	}
	return out
}

// additional reports one error per unexpected property, in document order.
func (t *Translator) additional(e Error) []Error {
	obj, _ := e.Value.(map[string]any)
	parent := t.parentSchema(e)
	props, _ := parent["properties"].(map[string]any)
	var patterns []*regexp.Regexp
	var patternTexts []string
	if pp, ok := parent["patternProperties"].(map[string]any); ok {
		for p := range pp {
			patternTexts = append(patternTexts, p)
			if re, err := regexp.Compile(p); err == nil {
				patterns = append(patterns, re)
			}
		}
		sort.Strings(patternTexts)
	}
	var keys []string
	if t.Keys != nil {
		keys = t.Keys(e.InstancePath)
	}
	if len(keys) != len(obj) {
		keys = nil
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	var out []Error
	for _, k := range keys {
		if _, ok := props[k]; ok {
			continue
		}
		matched := false
		for _, re := range patterns {
			if re.MatchString(k) {
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		r := e
		r.Property = k
		if len(patternTexts) > 0 {
			var ps []string
			for _, p := range patternTexts {
				ps = append(ps, pycompat.ReprString(p))
			}
			r.Message = fmt.Sprintf("%s does not match any of the regexes: %s", pycompat.ReprString(k), strings.Join(ps, ", "))
		} else {
			r.Message = fmt.Sprintf("Additional properties are not allowed (%s was unexpected)", pycompat.ReprString(k))
		}
		out = append(out, r)
	}
	return out
}

func (t *Translator) repr(v any, path []string) string {
	max := t.MaxValueLen
	if max == 0 {
		max = 200
	}
	keys := t.Keys
	if path == nil {
		keys = nil // not an instance value
	}
	var kf func([]string) []string
	if keys != nil {
		base := clonePath(path)
		kf = func(sub []string) []string { return keys(append(clonePath(base), sub...)) }
	}
	return pycompat.Repr(v, kf, max)
}

func clonePath(p []string) []string {
	return append(make([]string, 0, len(p)+1), p...)
}

// Lookup returns the value at the given pointer tokens.
func Lookup(v any, path []string) (any, bool) {
	for _, tok := range path {
		switch c := v.(type) {
		case map[string]any:
			x, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func lastToken(ptr string) string {
	toks := jsonpointer.Split(ptr)
	if len(toks) == 0 {
		return ""
	}
	return toks[len(toks)-1]
}

// DecodeJSON decodes a JSON document with json.Number numbers, for Docs.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// RefuseLoad is a jsonschema.Compiler.LoadURL that loads nothing: dvp
// schemas are compiled from embedded documents only and never fetch a
// remote reference.
func RefuseLoad(url string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("refusing to load %q: dvp resolves schema references offline only", url)
}
