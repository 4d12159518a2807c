package schema

import (
	"maps"
	"regexp"
)

// withoutForeignPatterns returns doc (a decoded schema) with every
// "pattern" that Go's regexp cannot compile left out, and whether it left
// any out. dvp accepts any pattern (Python's re has look-around and
// back-references; RE2 has not) and the engine checks such a pattern with
// its own regular expressions, so a schema that holds one is valid: the
// values are then validated without that one rule, and validating
// schema.json warns about it (docs/validation.md). doc itself is not
// changed; only the schema objects on the way to a dropped pattern are
// copied. Only schema positions are visited (the subschema keywords of
// draft-07), never data such as enum, const or default values.
func withoutForeignPatterns(doc any) (any, bool) {
	return dropPatterns(doc, 0)
}

// maxPatternDepth bounds the walk; deeper schemas are left as they are
// (the JSON reader refuses nesting this deep long before).
const maxPatternDepth = 10000

func dropPatterns(v any, depth int) (any, bool) {
	obj, ok := v.(map[string]any)
	if !ok || depth > maxPatternDepth {
		return v, false
	}
	var out map[string]any // a copy of obj, made on the first change
	edit := func() map[string]any {
		if out == nil {
			out = maps.Clone(obj)
		}
		return out
	}
	set := func(k string, nv any) { edit()[k] = nv }
	if p, ok := obj["pattern"].(string); ok {
		if _, err := regexp.Compile(p); err != nil {
			delete(edit(), "pattern")
		}
	}
	for _, kw := range []string{"properties", "patternProperties", "definitions", "dependencies"} {
		m, ok := obj[kw].(map[string]any)
		if !ok {
			continue
		}
		var nm map[string]any
		for k, sub := range m {
			ns, changed := dropPatterns(sub, depth+1)
			if !changed {
				continue
			}
			if nm == nil {
				nm = maps.Clone(m)
			}
			nm[k] = ns
		}
		if nm != nil {
			set(kw, nm)
		}
	}
	for _, kw := range []string{"additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else", "items"} {
		if _, ok := obj[kw].(map[string]any); ok {
			if ns, changed := dropPatterns(obj[kw], depth+1); changed {
				set(kw, ns)
			}
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "items"} {
		list, ok := obj[kw].([]any)
		if !ok {
			continue
		}
		var nl []any
		for i, sub := range list {
			ns, changed := dropPatterns(sub, depth+1)
			if !changed {
				continue
			}
			if nl == nil {
				nl = append([]any(nil), list...)
			}
			nl[i] = ns
		}
		if nl != nil {
			set(kw, nl)
		}
	}
	if out == nil {
		return v, false
	}
	return out, true
}
