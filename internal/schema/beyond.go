package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/pycompat"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// beyondDvp reports, as warnings, mistakes the Python dvp accepts (so the
// verdict stays the same) but that break the plugin later or make the Go
// code generation lose a rule. docs/validation.md explains each.
func (s *Schema) beyondDvp() diag.List {
	if s.Doc == nil {
		return nil
	}
	var out diag.List
	warn := func(ptr string, atKey bool, hint, format string, args ...any) {
		l, c := s.Position(ptr)
		if atKey {
			if kl, kc := s.KeyPosition(ptr); kl > 0 {
				l, c = kl, kc
			}
		}
		out = append(out, diag.Problem{File: s.Path, Line: l, Column: c, Pointer: ptr, Severity: diag.Warning,
			Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	for _, name := range []string{"repositoryDefinition", "sourceConfigDefinition"} {
		def, ok := s.Doc[name].(map[string]any)
		if !ok {
			continue
		}
		s.discoverable(name, def, warn)
	}
	for _, name := range []string{"virtualSourceDefinition", "linkedSourceDefinition"} {
		def, ok := s.Doc[name].(map[string]any)
		if !ok {
			continue
		}
		props, _ := def["properties"].(map[string]any)
		rs, _ := props["recordSizeInKB"].(map[string]any)
		if rs == nil {
			continue
		}
		if d, has := rs["default"]; has && !isRecordSize(d) {
			ptr := "/" + name + "/properties/recordSizeInKB/default"
			warn(ptr, false, "use a power of two from 1 to 16384 (KiB), e.g. 8",
				"recordSizeInKB default %s is not a power of two between 1 and 16384; the engine accepts only those record sizes",
				pycompat.Repr(forValidation(d), nil, 60))
		}
	}
	for _, name := range DefinitionNames {
		if def, ok := s.Doc[name]; ok {
			s.walkSchema(def, "/"+name, warn)
		}
	}
	return out
}

type warnFunc func(ptr string, atKey bool, hint, format string, args ...any)

func isRecordSize(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	r, ok := new(big.Rat).SetString(string(validationNumber(n)))
	if !ok || !r.IsInt() {
		return false
	}
	i := r.Num()
	if i.Sign() <= 0 || i.BitLen() > 15 {
		return false
	}
	x := i.Int64()
	return x&(x-1) == 0
}

func (s *Schema) discoverable(name string, def map[string]any, warn warnFunc) {
	props, _ := def["properties"].(map[string]any)
	declared := func(p string) bool { _, ok := props[p]; return ok }
	base := "/" + name
	if nf, has := def["nameField"]; has {
		ptr := base + "/nameField"
		switch v := nf.(type) {
		case string:
			if !declared(v) {
				warn(ptr, false, fmt.Sprintf("name one of the properties of %s: %s", name, propList(props)),
					"nameField %s names no property of %s: dvp writes it into the artifact as it is, and an engine, which names discovered objects by that property, refuses the upload", pycompat.ReprString(v), name)
			} else if ps, ok := props[v].(map[string]any); ok {
				if t, ok := ps["type"].(string); ok && t != "string" && simpleType(t) {
					warn(ptr, false, "nameField should name a property of type string",
						"nameField %s names a property of type %s, not string", pycompat.ReprString(v), pycompat.ReprString(t))
				}
			}
		default:
			hint := fmt.Sprintf("write \"nameField\": \"<property>\", naming one of the properties of %s: %s", name, propList(props))
			if l, ok := nf.([]any); ok && len(l) == 1 {
				if p, ok := l[0].(string); ok && declared(p) {
					hint = fmt.Sprintf("write \"nameField\": %s", quoteJSON(p))
				}
			}
			warn(ptr, false, hint,
				"nameField is %s, not a string: dvp writes it into the artifact as it is, and an engine, which takes a string naming a property there, refuses the upload",
				pycompat.Repr(forValidation(nf), nil, 60))
		}
	}
	if idf, has := def["identityFields"]; has {
		ptr := base + "/identityFields"
		list, ok := idf.([]any)
		if !ok || len(list) == 0 {
			hint := "write \"identityFields\": [\"<property>\", ...] with at least one property"
			if p, ok := idf.(string); ok && declared(p) {
				hint = fmt.Sprintf("write \"identityFields\": [%s]", quoteJSON(p))
			}
			what := "not a list of strings"
			if ok {
				what = "an empty list"
			}
			warn(ptr, false, hint,
				"identityFields is %s, %s: dvp writes it into the artifact as it is, and an engine, which takes a non-empty list of property names there, refuses the upload",
				pycompat.Repr(forValidation(idf), nil, 60), what)
			return
		}
		seen := map[string]bool{}
		for i, x := range list {
			ip := ptr + "/" + strconv.Itoa(i)
			f, ok := x.(string)
			if ok && seen[f] {
				warn(ip, false, "list each identity field once",
					"identityFields entry %s is listed twice: dvp writes the list into the artifact as it is, and an engine refuses the upload", pycompat.ReprString(f))
				continue
			}
			if ok {
				seen[f] = true
			}
			if !ok {
				warn(ip, false, "identityFields entries are property names (strings)",
					"identityFields entry %s is not a string: dvp writes the list into the artifact as it is, and an engine, which takes a list of strings there, refuses the upload",
					pycompat.Repr(forValidation(x), nil, 60))
				continue
			}
			if !declared(f) {
				warn(ip, false, fmt.Sprintf("name one of the properties of %s: %s", name, propList(props)),
					"identityFields entry %s names no property of %s: dvp writes it into the artifact as it is, and an engine, which identifies discovered objects by those properties, refuses the upload", pycompat.ReprString(f), name)
			}
		}
	}
}

// quoteJSON is s as a JSON string, for a hint the user copies.
func quoteJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func propList(props map[string]any) string {
	if len(props) == 0 {
		return "(it declares none)"
	}
	return strings.Join(sortedKeys(props), ", ")
}

// walkSchema visits every schema object reachable through the subschema
// keywords of draft-07 (not through data keywords such as enum or default).
func (s *Schema) walkSchema(v any, ptr string, warn warnFunc) {
	s.walk(v, ptr, warn, 0)
}

func (s *Schema) walk(v any, ptr string, warn warnFunc, depth int) {
	obj, ok := v.(map[string]any)
	if !ok || depth > pyjson.MaxDepth {
		return
	}
	unknownKeywords(obj, ptr, warn)
	if ref, ok := obj["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		if why := s.unresolvedRef(ref, ptr); why != "" {
			warn(ptr+"/$ref", false, "point it at a schema of schema.json: #/definitions/<name> for \"definitions\" of the same definition, or #/<definition>/... for another one",
				"$ref %s resolves to nothing (%s); dvp accepts it, but dvp build cannot generate code for it",
				pycompat.ReprString(ref), why)
		}
	}
	if p, ok := obj["pattern"].(string); ok {
		if _, err := regexp.Compile(p); err != nil {
			warn(ptr+"/pattern", false, "rewrite it in the RE2 syntax Go supports (no look-around or back-references), or drop it",
				"pattern %s is not a valid regular expression for Go (%s); dvp accepts it, but the generated Go validation cannot check it",
				pycompat.ReprString(p), regexpErr(err))
		}
	}
	if pp, ok := obj["patternProperties"].(map[string]any); ok {
		for k := range pp {
			if _, err := regexp.Compile(k); err != nil {
				warn(ptr+"/patternProperties"+jsonpointer.Join(k), true,
					"rewrite it in the RE2 syntax Go supports (no look-around or back-references)",
					"patternProperties key %s is not a valid regular expression for Go (%s); the generated Go validation cannot check it",
					pycompat.ReprString(k), regexpErr(err))
			}
		}
	}
	if req, ok := obj["required"].([]any); ok {
		if props, ok := obj["properties"].(map[string]any); ok {
			pats := patternRegexps(obj["patternProperties"])
			for i, x := range req {
				name, ok := x.(string)
				if !ok {
					continue
				}
				if _, declared := props[name]; declared || matchesAny(pats, name) {
					continue
				}
				warn(fmt.Sprintf("%s/required/%d", ptr, i), false,
					fmt.Sprintf("declare %q under \"properties\" or remove it from \"required\"; declared: %s", name, propList(props)),
					"required property %s is not declared in \"properties\"; dvp accepts this, but every value would need an undeclared %s member",
					pycompat.ReprString(name), pycompat.ReprString(name))
			}
		}
	}
	for _, kw := range []string{"properties", "patternProperties", "definitions", "dependencies"} {
		if m, ok := obj[kw].(map[string]any); ok {
			for k, sub := range m {
				s.walk(sub, ptr+"/"+kw+jsonpointer.Join(k), warn, depth+1)
			}
		}
	}
	for _, kw := range []string{"additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else", "items"} {
		if sub, ok := obj[kw].(map[string]any); ok {
			s.walk(sub, ptr+"/"+kw, warn, depth+1)
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "items"} {
		if list, ok := obj[kw].([]any); ok {
			for i, sub := range list {
				s.walk(sub, ptr+"/"+kw+"/"+strconv.Itoa(i), warn, depth+1)
			}
		}
	}
}

func patternRegexps(v any) []*regexp.Regexp {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var out []*regexp.Regexp
	for k := range m {
		if re, err := regexp.Compile(k); err == nil {
			out = append(out, re)
		}
	}
	return out
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func regexpErr(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "error parsing regexp: ")
}

func simpleType(t string) bool {
	switch t {
	case "array", "boolean", "integer", "null", "number", "object", "string":
		return true
	}
	return false
}

// schemaKeywords are the keywords dvp knows: draft-07's and Delphix's
// (schema annotations the engine and the UI read).
var schemaKeywords = []string{
	"$schema", "$id", "$ref", "$comment", "title", "description", "default", "readOnly", "writeOnly", "examples",
	"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
	"additionalItems", "items", "maxItems", "minItems", "uniqueItems", "contains", "maxProperties", "minProperties",
	"required", "additionalProperties", "definitions", "properties", "patternProperties", "dependencies",
	"propertyNames", "const", "enum", "type", "format", "contentMediaType", "contentEncoding", "if", "then", "else",
	"allOf", "anyOf", "oneOf", "not",
	// Delphix's keywords.
	"prettyName", "nameField", "identityFields", "ordering", "dxFormProperties", "referenceType",
	"validationMessages", "hideExpression", "matches", "rows", "expanded", "collapsible",
}

// unknownKeywords warns about keywords of a schema object that dvp does
// not know but are close to one it does ("requried"): JSON Schema ignores
// unknown keywords, so the rule the author meant silently does nothing.
// An array without "items" is warned about too: its Go type is raw JSON.
func unknownKeywords(obj map[string]any, ptr string, warn warnFunc) {
	for _, k := range sortedKeys(obj) {
		if slices.Contains(schemaKeywords, k) || len(k) < 4 {
			continue
		}
		maxDist := 2
		if len(k) >= 10 {
			maxDist = 3 // additionalProperty
		}
		s := jsonschemamsg.Suggest(k, schemaKeywords, maxDist)
		if s == "" {
			s = shortenedKeyword(k)
		}
		if s != "" {
			warn(ptr+jsonpointer.Join(k), true, fmt.Sprintf("rename it to %q", s),
				"unknown keyword %s: JSON Schema ignores it, so it checks nothing; did you mean %s?",
				pycompat.ReprString(k), pycompat.ReprString(s))
		}
	}
	if t, _ := obj["type"].(string); t == "array" {
		if _, has := obj["items"]; !has {
			warn(ptr+"/type", false, "add \"items\": {...} with the schema of the elements",
				"array without \"items\": its elements are not checked and the generated Go field is []json.RawMessage (kept raw)")
		}
	}
}

// shortenedKeyword returns the known keyword that k cuts short by at most
// three letters ("order" for "ordering", "maxLen" for "maxLength"), or "".
// A published plugin wrote "order" for the UI's "ordering", which is too far
// for the edit distance of a short word.
func shortenedKeyword(k string) string {
	if len(k) < 5 {
		return ""
	}
	for _, kw := range schemaKeywords {
		if len(kw) > len(k) && len(kw)-len(k) <= 3 && strings.HasPrefix(kw, k) {
			return kw
		}
	}
	return ""
}

// unresolvedRef says why a local $ref found at ptr (in one of the six
// definitions) resolves to nothing, or returns "". A fragment whose first
// segment names one of the six definitions starts there, any other starts
// at the definition holding the $ref: the code generator's rule
// (docs/codegen.md).
func (s *Schema) unresolvedRef(ref, ptr string) string {
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return "its escapes are not valid"
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return "only JSON-pointer fragments (#/...) are supported"
	}
	top, _, _ := strings.Cut(strings.TrimPrefix(ptr, "/"), "/")
	var segs []string
	if frag != "" {
		for _, seg := range strings.Split(frag[1:], "/") {
			segs = append(segs, strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~"))
		}
	}
	if len(segs) > 0 && slices.Contains(DefinitionNames, segs[0]) {
		top, segs = segs[0], segs[1:]
	}
	cur, at := s.Doc[top], "/"+top
	for _, seg := range segs {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return fmt.Sprintf("%s has no member %s", at, pycompat.ReprString(seg))
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) {
				return fmt.Sprintf("%s has no item %s", at, pycompat.ReprString(seg))
			}
			cur = v[i]
		default:
			return fmt.Sprintf("%s is not an object or an array", at)
		}
		at += jsonpointer.Join(seg)
	}
	return ""
}
