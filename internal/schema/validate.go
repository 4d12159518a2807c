package schema

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

//go:embed plugin_meta.schema.json
var metaJSON []byte

//go:embed platform.schema.json
var platformJSON []byte

const (
	metaURL     = "https://dvpkit.invalid/plugin_meta.schema.json"
	platformURL = "https://delphix.com/platform/api"
)

func always(any) bool { return true }

// embedded is the embedded meta-schema compiled, and the decoded meta and
// platform documents. They are made on first use (not in init), so commands
// that never validate a schema do not pay for them.
type embedded struct {
	metaSchema  *jsonschema.Schema
	metaDoc     any
	platformDoc any
}

var loadEmbedded = sync.OnceValue(func() embedded {
	var e embedded
	var err error
	if e.metaDoc, err = jsonschemamsg.DecodeJSON(metaJSON); err != nil {
		panic("schema: embedded meta-schema: " + err.Error())
	}
	if e.platformDoc, err = jsonschemamsg.DecodeJSON(platformJSON); err != nil {
		panic("schema: embedded platform schema: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.LoadURL = jsonschemamsg.RefuseLoad
	// dvp's Draft7Validator has no format checker: "format" is an
	// annotation when validating schema.json.
	for _, f := range []string{"regex", "uri", "uri-reference"} {
		c.Formats[f] = always
	}
	if err := c.AddResource(metaURL, strings.NewReader(string(metaJSON))); err != nil {
		panic("schema: embedded meta-schema: " + err.Error())
	}
	e.metaSchema = c.MustCompile(metaURL)
	return e
})

// metaValidate runs dvp's meta-schema and words the errors as dvp does.
func (s *Schema) metaValidate() diag.List {
	inst := forValidation(s.tree.value)
	emb := loadEmbedded()
	err := emb.metaSchema.Validate(inst)
	if err == nil {
		return nil
	}
	tr := &jsonschemamsg.Translator{Docs: map[string]any{metaURL: emb.metaDoc}, Keys: s.tree.keysAt}
	errs, other := tr.Translate(err, inst)
	if other != nil {
		return diag.List{{File: s.Path, Severity: diag.Error, Message: "internal error validating schema.json: " + other.Error()}}
	}
	var out diag.List
	for _, e := range errs {
		out = append(out, s.problem(e))
	}
	return out
}

func (s *Schema) problem(e jsonschemamsg.Error) diag.Problem {
	ptr := e.Pointer()
	p := diag.Problem{File: s.Path, Pointer: ptr, Severity: diag.Error, Message: e.Message}
	line, col := s.Position(ptr)
	switch e.Keyword {
	case "required":
		p.Pointer = jsonpointer.Join(append(e.InstancePath, e.Property)...)
	case "additionalProperties":
		p.Pointer = jsonpointer.Join(append(e.InstancePath, e.Property)...)
		if l, c := s.KeyPosition(p.Pointer); l > 0 {
			line, col = l, c
		}
	}
	p.Line, p.Column = line, col
	p.Hint = s.metaHint(e)
	if len(e.Context) > 0 {
		var sub []string
		for _, c := range e.Context {
			sub = append(sub, c.Message)
		}
		p.Hint += " (" + strings.Join(dedupe(sub), "; ") + ")"
	}
	return p
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// keywordExpectations describes what draft-07 wants for each keyword.
var keywordExpectations = map[string]string{
	"$schema":              "a string (a URI)",
	"$ref":                 "a string (a URI reference, e.g. \"#/definitions/x\" or a Delphix platform type)",
	"$comment":             "a string",
	"title":                "a string",
	"description":          "a string",
	"format":               "a string such as \"password\", \"unixpath\" or \"reference\"",
	"contentMediaType":     "a string",
	"contentEncoding":      "a string",
	"readOnly":             "true or false",
	"uniqueItems":          "true or false",
	"examples":             "a list",
	"multipleOf":           "a number greater than 0",
	"maximum":              "a number",
	"minimum":              "a number",
	"exclusiveMaximum":     "a number (in draft-07 it is the bound itself, not a boolean)",
	"exclusiveMinimum":     "a number (in draft-07 it is the bound itself, not a boolean)",
	"maxLength":            "a non-negative integer",
	"minLength":            "a non-negative integer",
	"maxItems":             "a non-negative integer",
	"minItems":             "a non-negative integer",
	"maxProperties":        "a non-negative integer",
	"minProperties":        "a non-negative integer",
	"pattern":              "a string holding a regular expression",
	"required":             "a list of distinct property names (strings)",
	"enum":                 "a non-empty list of distinct values",
	"type":                 "one of \"array\", \"boolean\", \"integer\", \"null\", \"number\", \"object\", \"string\", or a non-empty list of distinct ones",
	"properties":           "an object mapping property names to schemas",
	"definitions":          "an object mapping names to schemas",
	"patternProperties":    "an object mapping regular expressions to schemas",
	"dependencies":         "an object whose values are schemas or lists of property names",
	"items":                "a schema, or a non-empty list of schemas",
	"allOf":                "a non-empty list of schemas",
	"anyOf":                "a non-empty list of schemas",
	"oneOf":                "a non-empty list of schemas",
	"additionalItems":      "a schema (an object, or true/false)",
	"additionalProperties": "a schema (an object, or true/false)",
	"contains":             "a schema (an object, or true/false)",
	"propertyNames":        "a schema (an object, or true/false)",
	"not":                  "a schema (an object, or true/false)",
	"if":                   "a schema (an object, or true/false)",
	"then":                 "a schema (an object, or true/false)",
	"else":                 "a schema (an object, or true/false)",
}

func (s *Schema) metaHint(e jsonschemamsg.Error) string {
	sp := e.SchemaPointer
	switch {
	case len(e.InstancePath) == 0 && e.Keyword == "required":
		return fmt.Sprintf("add %q: schema.json must define exactly %s; an empty one is {\"type\": \"object\", \"properties\": {}}", e.Property, strings.Join(DefinitionNames, ", "))
	case len(e.InstancePath) == 0 && e.Keyword == "additionalProperties":
		h := fmt.Sprintf("schema.json may hold only the six definitions %s; remove %q", strings.Join(DefinitionNames, ", "), e.Property)
		if c := jsonschemamsg.Suggest(e.Property, DefinitionNames, 3); c != "" {
			h = fmt.Sprintf("did you mean %q? schema.json may hold only the six definitions; otherwise remove %q", c, e.Property)
		}
		return h
	case len(e.InstancePath) == 0 && e.Keyword == "type":
		return "schema.json must be a JSON object holding the six definitions"
	case strings.HasPrefix(sp, "/definitions/discoverableObject/required"):
		if e.Property == "nameField" {
			return fmt.Sprintf("add \"nameField\": \"<property>\" at the top level of %s, naming the string property that names the object in the UI", e.InstancePath[0])
		}
		return fmt.Sprintf("add \"identityFields\": [\"<property>\", ...] at the top level of %s, naming the properties that identify the object across discoveries", e.InstancePath[0])
	case strings.HasPrefix(sp, "/definitions/discoverableObject/type"):
		return fmt.Sprintf("%s must be a JSON object with nameField and identityFields", e.InstancePath[0])
	case strings.HasPrefix(sp, "/definitions/recordSizeObject/type"):
		// true or false: the draft-07 rules take them as schemas, dvp's
		// rule for recordSizeInKB wants an object.
		return fmt.Sprintf("%s must be a JSON object, e.g. {\"type\": \"object\", \"properties\": {}}", e.InstancePath[0])
	case strings.HasPrefix(sp, "/definitions/recordSizeObject"):
		return "declare recordSizeInKB as \"type\": \"integer\" (the record size in KiB, a power of two from 1 to 16384)"
	}
	// The last instance token is the keyword of the user's schema that is
	// malformed, unless the value is a schema itself.
	if n := len(e.InstancePath); n > 0 {
		kw := e.InstancePath[n-1]
		if strings.HasPrefix(sp, "/definitions/jsonSchema/type") || e.Keyword == "false" {
			return "a schema must be a JSON object (or true/false)"
		}
		if exp, ok := keywordExpectations[kw]; ok && isKeywordPosition(e.InstancePath) {
			return fmt.Sprintf("%q must be %s", kw, exp)
		}
		if n >= 2 {
			if exp, ok := keywordExpectations[e.InstancePath[n-2]]; ok && isKeywordPosition(e.InstancePath[:n-1]) {
				return fmt.Sprintf("%q must be %s", e.InstancePath[n-2], exp)
			}
		}
	}
	return "see the draft-07 JSON Schema rules and dvp help validation"
}

// isKeywordPosition tells whether the last token of path is a keyword of a
// schema object (and not, say, a property name under "properties").
func isKeywordPosition(path []string) bool {
	if len(path) < 2 {
		return len(path) == 1
	}
	parent := path[len(path)-2]
	switch parent {
	case "properties", "definitions", "patternProperties", "dependencies":
		// path[-1] is a name; the parent map is at path[-2] which is a
		// keyword only if its own parent is a schema.
		return false
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
