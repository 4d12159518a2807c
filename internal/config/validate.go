package config

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/pycompat/pyyaml"
)

//go:embed plugin_config.schema.json
var schemaJSON []byte

const schemaURL = "https://dvpkit.invalid/plugin_config.schema.json"

var keyExample = map[string]string{
	"id":                     "id: 8c4f3e2a-5b6d-4e7f-9a0b-1c2d3e4f5a6b  (a UUID; `uuidgen` makes one)",
	"name":                   "name: my-plugin",
	"hostTypes":              "hostTypes: [UNIX]",
	"entryPoint":             "entryPoint: <module>:<symbol>",
	"srcDir":                 "srcDir: src",
	"schemaFile":             "schemaFile: schema.json",
	"pluginType":             "pluginType: DIRECT  (or STAGED)",
	"language":               "language: GO",
	"buildNumber":            "buildNumber: 0.1.0",
	"externalVersion":        "externalVersion: \"1.0.0\"",
	"manualDiscovery":        "manualDiscovery: true",
	"rootSquashEnabled":      "rootSquashEnabled: true",
	"defaultLocale":          "defaultLocale: en-us",
	"luaName":                "luaName: my-lua-toolkit",
	"minimumLuaVersion":      "minimumLuaVersion: \"1.0\"",
	"extendedStartStopHooks": "extendedStartStopHooks: false",
}

// embeddedSchema is the embedded plugin_config schema, decoded and compiled
// on first use (not in init: most commands never validate a config).
type embeddedSchema struct {
	compiled  *jsonschema.Schema
	doc       any
	knownKeys []string
}

var loadSchema = sync.OnceValue(func() embeddedSchema {
	var e embeddedSchema
	doc, err := jsonschemamsg.DecodeJSON(schemaJSON)
	if err != nil {
		panic("config: embedded schema: " + err.Error())
	}
	e.doc = doc
	for k := range doc.(map[string]any)["properties"].(map[string]any) {
		e.knownKeys = append(e.knownKeys, k)
	}
	sort.Strings(e.knownKeys)
	// Python's re.search lets '$' match before a final newline; Go's '$'
	// does not. The compiled copy uses '\n?$' so verdicts agree, while
	// messages print the patterns as written (from schemaDoc).
	goSchema := strings.ReplaceAll(string(schemaJSON), `$"`, `\n?$"`)
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.LoadURL = jsonschemamsg.RefuseLoad
	if err := c.AddResource(schemaURL, strings.NewReader(goSchema)); err != nil {
		panic("config: embedded schema: " + err.Error())
	}
	e.compiled = c.MustCompile(schemaURL)
	return e
})

// validateSchema checks the config against the embedded JSON Schema and
// words the errors as dvp does.
func validateSchema(path string, doc *pyyaml.Doc, top *yaml.Node) diag.List {
	emb := loadSchema()
	err := emb.compiled.Validate(doc.Root)
	if err == nil {
		return nil
	}
	tr := &jsonschemamsg.Translator{Docs: map[string]any{schemaURL: emb.doc}, Keys: doc.KeysAt}
	errs, other := tr.Translate(err, doc.Root)
	if other != nil {
		return diag.List{{File: path, Severity: diag.Error, Message: "internal error validating the plugin config: " + other.Error()}}
	}
	var out diag.List
	for _, e := range errs {
		ptr := e.Pointer()
		if suppressed(doc, ptr) {
			continue // the value could not be read; already reported
		}
		p := diag.Problem{File: path, Pointer: ptr, Severity: diag.Error, Message: e.Message}
		var n *yaml.Node
		switch e.Keyword {
		case "required":
			n = doc.Values[ptr]
			if n == nil {
				n = top
			}
			p.Pointer = jsonpointer.Join(append(e.InstancePath, e.Property)...)
		case "additionalProperties":
			kp := jsonpointer.Join(append(e.InstancePath, e.Property)...)
			n = doc.Keys[kp]
			p.Pointer = kp
		default:
			n = doc.Values[ptr]
		}
		if n != nil {
			p.Line, p.Column = n.Line, n.Column
		}
		p.Message, p.Hint = explain(e, n)
		out = append(out, p)
	}
	return out
}

func suppressed(doc *pyyaml.Doc, ptr string) bool {
	for q := range doc.Bad {
		if ptr == q || strings.HasPrefix(ptr, q+"/") {
			return true
		}
	}
	return false
}

// explain returns the message (dvp wording, with a Go-specific note for a
// Python language such as PYTHON311, or the PYTHON27 and PYTHON38 of older
// SDKs' projects) and a hint for one error.
func explain(e jsonschemamsg.Error, n *yaml.Node) (msg, hint string) {
	msg = e.Message
	key := ""
	if len(e.InstancePath) > 0 {
		key = e.InstancePath[0]
	}
	switch e.Keyword {
	case "required":
		return msg, "add the line `" + keyExample[e.Property] + "`"
	case "additionalProperties":
		hint = fmt.Sprintf("remove %q; the keys plugin_config.yml allows are: %s", e.Property, strings.Join(loadSchema().knownKeys, ", "))
		if s := jsonschemamsg.Suggest(e.Property, loadSchema().knownKeys, 2); s != "" {
			hint = fmt.Sprintf("did you mean %q? (keys are case-sensitive) Otherwise remove %q", s, e.Property)
		}
		return msg, hint
	case "type":
		want := ""
		switch kv := e.KeywordValue.(type) {
		case string:
			want = kv
		}
		switch {
		case want == "string" && n != nil && isPlainNonString(n) && n.Value == "":
			return msg, fmt.Sprintf("an empty value is null in YAML; write the value, e.g. `%s`", exampleOr(key, key+": text"))
		case want == "string" && n != nil && isPlainNonString(n):
			return msg, fmt.Sprintf("YAML 1.1 reads the unquoted %s as %s, not a string; quote it: %s: %q", n.Value, yamlTypeName(n), key, n.Value)
		case want == "string":
			return msg, fmt.Sprintf("%s must be a single text value, e.g. `%s`", key, exampleOr(key, key+": text"))
		case want == "boolean":
			return msg, fmt.Sprintf("%s must be true or false (unquoted), e.g. `%s`", key, exampleOr(key, key+": true"))
		case want == "array":
			return msg, fmt.Sprintf("%s must be a list, e.g. `%s`", key, exampleOr(key, key+": [value]"))
		case want == "object":
			return msg, "the top level of plugin_config.yml must be a mapping of `key: value` lines"
		}
		return msg, "change the value to the expected type"
	case "enum":
		if v, ok := e.Value.(string); ok && key == "language" && isPythonLanguage(v) {
			msg += " (this dvp builds plugins written in Go; Python plugins need Delphix's Python dvp)"
			return msg, "set `language: GO` and write the plugin in Go"
		}
		var opts []string
		if list, ok := e.KeywordValue.([]any); ok {
			for _, o := range list {
				opts = append(opts, fmt.Sprint(o))
			}
		}
		return msg, fmt.Sprintf("use one of: %s (case-sensitive)", strings.Join(opts, ", "))
	case "maxItems":
		return msg, "hostTypes holds exactly one host type: [UNIX] or [WINDOWS]"
	case "pattern":
		switch key {
		case "id":
			return msg, "the id must be a UUID: 8-4-4-4-12 hexadecimal digits, e.g. 8c4f3e2a-5b6d-4e7f-9a0b-1c2d3e4f5a6b (`uuidgen` makes one)"
		case "entryPoint":
			return msg, "write <module>:<symbol>, with exactly one colon and text on both sides"
		case "buildNumber":
			return msg, "use dot-separated whole numbers that are not all zero, e.g. 1, 0.1.0 or 2.10; quote it if it looks like a number (buildNumber: \"1.2\")"
		case "luaName":
			return msg, "use only lower-case letters, digits, '_', ':' and '-'"
		case "minimumLuaVersion":
			return msg, "write major.minor, e.g. \"1.3\" (quoted, so YAML keeps it a string)"
		}
	}
	return msg, "see the plugin_config.yml rules in dvp help validation"
}

// isPythonLanguage tells whether a language value names Python: PYTHON311
// (dvp 5.0.1), or PYTHON27, PYTHON38 and the like that earlier versions of
// Delphix's SDK wrote and that public plugins still carry.
func isPythonLanguage(v string) bool {
	return strings.HasPrefix(strings.ToUpper(v), "PYTHON")
}

func exampleOr(key, def string) string {
	if ex, ok := keyExample[key]; ok {
		return ex
	}
	return def
}

// isPlainNonString tells whether n is an unquoted scalar that YAML 1.1
// resolves to something other than a string.
func isPlainNonString(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 && n.Tag != pyyaml.TagStr
}

func yamlTypeName(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Tag {
	case pyyaml.TagBool:
		return "a boolean"
	case pyyaml.TagInt:
		return "an integer"
	case pyyaml.TagFloat:
		return "a floating-point number"
	case pyyaml.TagNull:
		return "null"
	}
	return "a non-string value"
}
