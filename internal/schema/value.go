package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp/syntax"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/pycompat"
)

// Delphix string formats (docs/validation.md, schema.json). password and reference accept
// any string (they drive the UI and secret handling); unixpath refuses
// only what no Unix path can contain.
var delphixFormats = map[string]func(any) bool{
	"password":  func(any) bool { return true },
	"reference": func(any) bool { return true },
	"unixpath": func(v any) bool {
		s, ok := v.(string)
		return !ok || !strings.ContainsRune(s, 0)
	},
}

// NewValueCompiler returns a draft-07 compiler for validating values
// against plugin schemas as the engine does: the Delphix formats are
// registered, the platform definitions are the embedded copy, and nothing
// is ever loaded from the network.
func NewValueCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.LoadURL = jsonschemamsg.RefuseLoad
	for name, f := range delphixFormats {
		c.Formats[name] = f
	}
	if err := c.AddResource(platformURL, bytes.NewReader(platformJSON)); err != nil {
		panic("schema: embedded platform schema: " + err.Error())
	}
	return c
}

var compileMu sync.Mutex

// CheckCompiles compiles a plugin schema (a decoded JSON value) as the
// engine does (NewValueCompiler, without the patterns Go cannot compile,
// as ValidateValue) and returns why it does not compile; name identifies
// it in errors. It is the artifact check's CompileSchema.
func CheckCompiles(name string, schema any) error {
	if err := checkPatterns(schema); err != nil {
		return err
	}
	if err := checkNumbers(schema); err != nil {
		return err
	}
	schema, _ = withoutForeignPatterns(schema)
	b, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	c := NewValueCompiler()
	m := &meter{}
	c.RegisterExtension("dvp-meter", nil, m)
	url := "https://dvp.invalid/artifact" + name + ".json"
	if err := c.AddResource(url, bytes.NewReader(b)); err != nil {
		return err
	}
	compileMu.Lock() // jsonschema's draft meta-schemas are compiled lazily on first use
	defer compileMu.Unlock()
	if _, err = c.Compile(url); err != nil {
		return err
	}
	return m.checkSize()
}

// ValidateValue validates an instance (a JSON-like value: nil, bool,
// string, json.Number or float64/int, []any, map[string]any) against one
// of the six definitions, with the Delphix formats and the platform
// $refs (https://delphix.com/platform/api#/definitions/...) resolved from
// embedded definitions; nothing is ever fetched. Problems carry
// File=definition and the instance's JSON pointer; a definition that is
// absent or cannot be compiled gives one error.
func (s *Schema) ValidateValue(definition string, value any) diag.List {
	cd := s.compile(definition)
	if cd.err != nil {
		return diag.List{{File: definition, Severity: diag.Error,
			Message: fmt.Sprintf("cannot validate against %s: %v", definition, cd.err),
			Hint:    "fix the problems reported for schema.json first"}}
	}
	if d := depth(value); d > MaxValueDepth {
		return diag.List{{File: definition, Severity: diag.Error,
			Message: fmt.Sprintf("the value nests %d levels deep, more than the %d accepted", d, MaxValueDepth),
			Hint:    "give a value that nests less deep"}}
	}
	if ptr, why := firstBadNumber(value, "", false); why != "" {
		return diag.List{{File: definition, Pointer: ptr, Severity: diag.Error, Message: why,
			Hint: fmt.Sprintf("give numbers of at most %d characters, with an exponent of at most %d", MaxNumberBytes, MaxNumberExponent)}}
	}
	value = sanitize(value)
	err, tooMuch := cd.meter.validate(cd.schema, value)
	if tooMuch {
		return diag.List{{File: definition, Severity: diag.Error,
			Message: fmt.Sprintf("validating the value against %s takes more than %d steps: the schema applies its subschemas to the same values too many times (allOf, anyOf, oneOf or $ref that branch again and again)", definition, cd.meter.limit(value)),
			Hint:    "simplify the plugin's schema: a subschema reached through several chains of $ref is checked once per chain"}}
	}
	if err == nil {
		return nil
	}
	tr := &jsonschemamsg.Translator{Docs: cd.docs}
	errs, other := tr.Translate(err, value)
	if other != nil {
		return diag.List{{File: definition, Severity: diag.Error, Message: fmt.Sprintf("%s: %v", definition, other)}}
	}
	var out diag.List
	for _, e := range errs {
		p := diag.Problem{File: definition, Pointer: e.Pointer(), Severity: diag.Error, Message: e.Message}
		if e.Keyword == "required" || e.Keyword == "additionalProperties" {
			p.Pointer = jsonpointer.Join(append(e.InstancePath, e.Property)...)
		}
		p.Hint = fmt.Sprintf("the value must match %s in schema.json", definition)
		if e.Keyword == "required" {
			p.Hint = fmt.Sprintf("the %s schema requires %q", definition, e.Property)
		}
		out = append(out, p)
	}
	out.Sort()
	return out
}

func (s *Schema) compile(definition string) compiledDef {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cd, ok := s.compiled[definition]; ok {
		return cd
	}
	if s.compiled == nil {
		s.compiled = map[string]compiledDef{}
	}
	cd := compileDefinition(definition, s.Definitions[definition])
	s.compiled[definition] = cd
	return cd
}

func compileDefinition(definition string, raw []byte) (cd compiledDef) {
	known := false
	for _, n := range DefinitionNames {
		known = known || n == definition
	}
	if !known {
		return compiledDef{err: fmt.Errorf("%q is not one of the six definitions (%s)", definition, strings.Join(DefinitionNames, ", "))}
	}
	if raw == nil {
		return compiledDef{err: fmt.Errorf("schema.json has no %s", definition)}
	}
	doc, err := jsonschemamsg.DecodeJSON(raw)
	if err != nil {
		// NaN and Infinity are Python-only JSON.
		return compiledDef{err: fmt.Errorf("the definition is not standard JSON: %v", err)}
	}
	url := "https://dvpkit.invalid/schema.json/" + definition
	if err := checkPatterns(doc); err != nil {
		return compiledDef{err: err}
	}
	if err := checkNumbers(doc); err != nil {
		return compiledDef{err: err}
	}
	if cleaned, changed := withoutForeignPatterns(doc); changed {
		if raw, err = json.Marshal(cleaned); err != nil {
			return compiledDef{err: err}
		}
	}
	c := NewValueCompiler()
	m := &meter{}
	c.RegisterExtension("dvp-meter", nil, m)
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		return compiledDef{err: err}
	}
	defer func() {
		// Defensive: a panic in the third-party compiler must not take
		// the tool down; it becomes a problem for this definition.
		if r := recover(); r != nil {
			cd = compiledDef{err: fmt.Errorf("the definition cannot be compiled: %v", r)}
		}
	}()
	sch, err := c.Compile(url)
	if err == nil {
		err = m.checkSize()
	}
	if err != nil {
		return compiledDef{err: err}
	}
	return compiledDef{schema: sch, docs: map[string]any{url: doc, platformURL: loadEmbedded().platformDoc}, meter: m}
}

// A meter bounds the work of validating one value. A plugin's schema is
// hostile input: a few kilobytes of allOf/anyOf/oneOf whose branches $ref
// the same next level, again and again, make the validator check a
// subschema 2^n times on one value (an engine request that never ends and
// grows its memory with the errors). The meter is a jsonschema extension
// on every subschema of the definition, called each time a subschema is
// applied; past the limit it stops the validation. The limit grows with
// the value, so that a big value checked by a sane schema always passes.
//
// Each step that fails adds an error that records its path through the
// schema, so the memory of a validation grows with the steps times the
// depth of the subschemas: the subschemas of a definition
// (MaxSubschemas) and the depth of a value (MaxValueDepth) are bounded
// too.
type meter struct {
	mu    sync.Mutex // one validation at a time per compiled definition
	left  int
	nodes int // subschemas compiled
}

// stepsPerValue and baseSteps make the limit: baseSteps plus
// stepsPerValue for each JSON value of the instance (a sane schema applies
// a few subschemas to each value).
const (
	baseSteps     = 20_000
	stepsPerValue = 20
)

// MaxSubschemas bounds the subschemas of one definition (with the platform
// definitions it refers to); a plugin's definitions have tens or hundreds.
// MaxValueDepth bounds how deep a value validated against one nests.
const (
	MaxSubschemas = 2_000
	MaxValueDepth = 100
)

// checkSize refuses a definition with more than MaxSubschemas subschemas.
func (m *meter) checkSize() error {
	if m.nodes > MaxSubschemas {
		return fmt.Errorf("the schema has %d subschemas, more than the %d accepted: split or simplify it", m.nodes, MaxSubschemas)
	}
	return nil
}

// errTooMuch is the meter's panic past the limit.
var errTooMuch = errors.New("schema validation took too many steps")

func (m *meter) limit(v any) int { return baseSteps + stepsPerValue*countValues(v) }

// validate validates v against s within the limit; tooMuch reports that
// the limit stopped it.
func (m *meter) validate(s *jsonschema.Schema, v any) (err error, tooMuch bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.left = m.limit(v)
	defer func() {
		if r := recover(); r != nil {
			if r != errTooMuch {
				panic(r)
			}
			err, tooMuch = nil, true
		}
	}()
	return s.Validate(v), false
}

// Compile makes the meter an extension of every subschema.
func (m *meter) Compile(jsonschema.CompilerContext, map[string]any) (jsonschema.ExtSchema, error) {
	m.nodes++
	if err := m.checkSize(); err != nil {
		return nil, err // stop compiling: each subschema costs memory
	}
	return meterStep{m}, nil
}

type meterStep struct{ m *meter }

// Validate counts one application of a subschema.
func (s meterStep) Validate(jsonschema.ValidationContext, any) error {
	s.m.left--
	if s.m.left < 0 {
		panic(errTooMuch)
	}
	return nil
}

// The bounds of a schema's regular expressions (pattern and the keys of
// patternProperties). Go's regexp runs in time linear in the text, but
// times the size of the compiled expression: a hostile pattern of
// megabytes takes seconds to compile and makes every match of a long
// value as slow. Real patterns have tens or hundreds of characters.
const (
	MaxPatternBytes = 4096
	MaxPatternInsts = 2000 // instructions of the compiled program
)

// checkPatterns refuses a schema whose regular expressions are beyond
// MaxPatternBytes or MaxPatternInsts, before anything compiles them.
// Every "pattern" string and "patternProperties" key is checked, in data
// (default, enum) too: a value there that long is refused as well.
func checkPatterns(v any) error {
	var err error
	check := func(p string) {
		if err != nil {
			return
		}
		if len(p) > MaxPatternBytes {
			err = fmt.Errorf("a pattern has %d bytes, more than the %d accepted: use a simpler regular expression", len(p), MaxPatternBytes)
			return
		}
		re, perr := syntax.Parse(p, syntax.Perl)
		if perr != nil {
			return // not Go syntax: left out of validation (patterns.go)
		}
		if prog, perr := syntax.Compile(re.Simplify()); perr == nil && len(prog.Inst) > MaxPatternInsts {
			err = fmt.Errorf("the pattern %.60q compiles to %d instructions, more than the %d accepted (counted repetitions such as {1000} multiply its size): use a simpler regular expression", p, len(prog.Inst), MaxPatternInsts)
		}
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxPatternDepth {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "pattern" {
					check(s)
				}
				if pp, ok := e.(map[string]any); ok && k == "patternProperties" {
					for p := range pp {
						check(p)
					}
				}
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
	return err
}

// depth is how deep v nests (1 for a scalar).
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
	}
	return d + 1
}

// countValues is the number of JSON values in v.
func countValues(v any) int {
	n := 1
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			n += countValues(e)
		}
	case map[string]any:
		for _, e := range x {
			n += countValues(e)
		}
	}
	return n
}

// sanitize replaces non-finite floats, which the validator cannot parse,
// by the stand-ins jsonschemamsg prints as inf and nan.
func sanitize(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return pycompat.FloatNumber(x)
		}
	case float32:
		return sanitize(float64(x))
	case json.Number:
		return validationNumber(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sanitize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sanitize(e)
		}
		return out
	}
	return v
}
