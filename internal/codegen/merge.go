package codegen

import (
	"bytes"
	"fmt"
	"strings"
)

// mergeAllOf merges an object schema and the object schemas of its allOf
// (following local $refs and nested allOfs) into one object schema: the
// properties of all parts in order, the union of their required lists, and
// additionalProperties false when any part says false. It returns nil and a
// reason when a part is not an object schema, when a part uses
// oneOf/anyOf, or when two parts declare the same property differently.
func (b *builder) mergeAllOf(n *node, l location) (*node, string) {
	if m, ok := b.merged[n]; ok {
		return m, ""
	}
	var parts []*node
	var reason string
	var visit func(p *node, top string, depth int)
	visit = func(p *node, top string, depth int) {
		if reason != "" {
			return
		}
		if depth > 32 {
			reason = "allOf nests too deeply"
			return
		}
		if p.kind == kBool && p.boolean {
			return
		}
		if p.kind != kObject {
			reason = "a part is not an object schema"
			return
		}
		if r := p.get("$ref"); r != nil {
			if r.kind != kString || !strings.HasPrefix(r.str, "#") {
				reason = "a part is a $ref that is not local to schema.json"
				return
			}
			t, tl, err := b.resolve(r.str, top)
			if err != nil {
				reason = fmt.Sprintf("cannot resolve $ref %q: %v", r.str, err)
				return
			}
			visit(t, tl.top, depth+1)
			return
		}
		if ts := schemaTypes(p); len(ts) > 0 && !(len(ts) == 1 && ts[0] == "object") {
			reason = "a part is not an object schema (type " + strings.Join(ts, ", ") + ")"
			return
		}
		for _, k := range []string{"oneOf", "anyOf"} {
			if p.has(k) {
				reason = "a part uses " + k
				return
			}
		}
		parts = append(parts, p)
		if a := p.get("allOf"); a != nil && a.kind == kArray {
			for _, it := range a.items {
				visit(it, top, depth+1)
			}
		}
	}
	visit(n, l.top, 0)
	if reason != "" {
		return nil, reason
	}
	props := &node{kind: kObject}
	byName := map[string]*node{}
	var required []*node
	seenReq := map[string]bool{}
	var ap *node
	closed := false
	for _, p := range parts {
		if ps := p.get("properties"); ps != nil && ps.kind == kObject {
			for _, m := range ps.members {
				if prev, ok := byName[m.key]; ok {
					if prev != m.value && !bytes.Equal(prev.raw, m.value.raw) {
						return nil, fmt.Sprintf("property %q is declared differently by two parts", m.key)
					}
					continue
				}
				byName[m.key] = m.value
				props.members = append(props.members, member{m.key, m.value})
			}
		}
		for _, r := range requiredNames(p) {
			if !seenReq[r] {
				seenReq[r] = true
				required = append(required, &node{kind: kString, str: r})
			}
		}
		if a := p.get("additionalProperties"); a != nil {
			switch {
			case a.kind == kBool && !a.boolean:
				closed = true
			case a.kind == kBool:
			case ap == nil:
				ap = a
			case !bytes.Equal(ap.raw, a.raw):
				return nil, "two parts declare additionalProperties differently"
			}
		}
	}
	m := &node{kind: kObject, raw: n.raw}
	m.members = append(m.members, member{"type", &node{kind: kString, str: "object"}}, member{"properties", props})
	if len(required) > 0 {
		m.members = append(m.members, member{"required", &node{kind: kArray, items: required}})
	}
	switch {
	case closed:
		m.members = append(m.members, member{"additionalProperties", &node{kind: kBool}})
	case ap != nil:
		m.members = append(m.members, member{"additionalProperties", ap})
	}
	for _, k := range []string{"description", "prettyName", "title", "enum", "const"} {
		if v := n.get(k); v != nil {
			m.members = append(m.members, member{k, v})
		}
	}
	b.merged[n] = m
	return m, ""
}
