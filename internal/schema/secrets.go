package schema

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

// Secret is a value of an instance that its schema marks as secret: a
// string under `format: password`, which includes the password and
// private key of the platform's credential suppliers.
type Secret struct {
	Path  []string // JSON pointer tokens from the instance's root
	Value any      // the value there (a string, or whatever was sent instead)
}

// Pointer returns the secret's path as a JSON pointer.
func (s Secret) Pointer() string { return jsonpointer.Join(s.Path...) }

// Text returns the value as it would be printed: the string itself, or the
// JSON text of a value that is not a string.
func (s Secret) Text() string {
	if str, ok := s.Value.(string); ok {
		return str
	}
	b, _ := json.Marshal(s.Value)
	return string(b)
}

// FindSecrets returns the secrets of an instance (decoded with UseNumber)
// of the definition schema (its raw JSON). It follows properties,
// patternProperties, additionalProperties, items, additionalItems, local
// and platform $refs, allOf/anyOf/oneOf and if/then/else — every branch,
// whether or not the value matches it: for hiding secrets, a false
// positive costs nothing and a false negative leaks. The instance need not
// be valid (a secret sent as a number is still found). A definition that
// is not JSON has no secrets.
func FindSecrets(definition []byte, value any) []Secret {
	root, err := jsonschemamsg.DecodeJSON(definition)
	if err != nil {
		return nil
	}
	f := &secretFinder{seen: map[string]bool{}}
	f.walk(root, root, value, nil)
	return f.found
}

type secretFinder struct {
	found []Secret
	// seen holds "path|ref" pairs: a $ref followed at the same place in the
	// instance again is a cycle that descends into nothing.
	seen map[string]bool
	have map[string]bool // paths already reported
	res  map[string]*regexp.Regexp
}

// pattern compiles a patternProperties key once (nil: not a Go regexp).
func (f *secretFinder) pattern(p string) *regexp.Regexp {
	if re, ok := f.res[p]; ok {
		return re
	}
	if f.res == nil {
		f.res = map[string]*regexp.Regexp{}
	}
	re, _ := regexp.Compile(p)
	f.res[p] = re
	return re
}

// maxSecretDepth bounds the instance depth walked (schemas can recurse
// through $ref into arbitrarily deep instances).
const maxSecretDepth = 256

func (f *secretFinder) walk(schema, root, value any, path []string) {
	s, ok := schema.(map[string]any)
	if !ok || value == nil || len(path) > maxSecretDepth {
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		// Draft-07: $ref's siblings are ignored.
		key := jsonpointer.Join(path...) + "|" + ref
		if f.seen[key] {
			return
		}
		f.seen[key] = true
		if target, newRoot := resolveRef(ref, root); target != nil {
			f.walk(target, newRoot, value, path)
		}
		return
	}
	if format, _ := s["format"].(string); format == "password" {
		switch value.(type) {
		case map[string]any, []any:
		default:
			f.add(path, value)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if branches, ok := s[k].([]any); ok {
			for _, b := range branches {
				f.walk(b, root, value, path)
			}
		}
	}
	for _, k := range []string{"if", "then", "else"} {
		f.walk(s[k], root, value, path)
	}
	switch v := value.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		patterns, _ := s["patternProperties"].(map[string]any)
		for name, e := range v {
			sub := append(append([]string(nil), path...), name)
			matched := false
			if p, ok := props[name]; ok {
				f.walk(p, root, e, sub)
				matched = true
			}
			for pat, p := range patterns {
				if re := f.pattern(pat); re != nil && re.MatchString(name) {
					f.walk(p, root, e, sub)
					matched = true
				}
			}
			if !matched {
				f.walk(s["additionalProperties"], root, e, sub)
			}
		}
	case []any:
		for i, e := range v {
			sub := append(append([]string(nil), path...), strconv.Itoa(i))
			switch items := s["items"].(type) {
			case map[string]any:
				f.walk(items, root, e, sub)
			case []any:
				if i < len(items) {
					f.walk(items[i], root, e, sub)
				} else {
					f.walk(s["additionalItems"], root, e, sub)
				}
			}
		}
	}
}

func (f *secretFinder) add(path []string, value any) {
	p := jsonpointer.Join(path...)
	if f.have == nil {
		f.have = map[string]bool{}
	}
	if f.have[p] {
		return
	}
	f.have[p] = true
	f.found = append(f.found, Secret{Path: append([]string(nil), path...), Value: value})
}

// resolveRef resolves a $ref within the definition ("#/...") or the
// embedded platform schema; any other URL resolves to nothing (the engine
// never loads schemas).
func resolveRef(ref string, root any) (target, newRoot any) {
	base, frag, _ := strings.Cut(ref, "#")
	switch base {
	case "":
	case platformURL:
		root = loadEmbedded().platformDoc
	default:
		return nil, nil
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, nil
	}
	node, ok := jsonschemamsg.Lookup(root, jsonpointer.Split(frag))
	if !ok {
		return nil, nil
	}
	return node, root
}
