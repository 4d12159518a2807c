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
	c := allOfParts{b: b}
	c.visit(n, l.top, 0)
	if c.reason != "" {
		return nil, c.reason
	}
	var u allOfUnion
	if reason := u.add(c.parts); reason != "" {
		return nil, reason
	}
	m := u.schema(n)
	b.merged[n] = m
	return m, ""
}

// allOfParts collects the object schemas an allOf is made of, in order:
// the schema itself, then each part (a local $ref followed, a nested allOf
// flattened). reason is set, and the walk stops, at the first part that
// cannot be merged.
type allOfParts struct {
	b      *builder
	parts  []*node
	reason string
}

func (c *allOfParts) visit(p *node, top string, depth int) {
	if c.reason != "" {
		return
	}
	if depth > 32 {
		c.reason = "allOf nests too deeply"
		return
	}
	if p.kind == kBool && p.boolean {
		return
	}
	if p.kind != kObject {
		c.reason = "a part is not an object schema"
		return
	}
	if r := p.get("$ref"); r != nil {
		if r.kind != kString || !strings.HasPrefix(r.str, "#") {
			c.reason = "a part is a $ref that is not local to schema.json"
			return
		}
		t, tl, err := c.b.resolve(r.str, top)
		if err != nil {
			c.reason = fmt.Sprintf("cannot resolve $ref %q: %v", r.str, err)
			return
		}
		c.visit(t, tl.top, depth+1)
		return
	}
	if ts := schemaTypes(p); len(ts) > 0 && !(len(ts) == 1 && ts[0] == "object") {
		c.reason = "a part is not an object schema (type " + strings.Join(ts, ", ") + ")"
		return
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if p.has(k) {
			c.reason = "a part uses " + k
			return
		}
	}
	c.parts = append(c.parts, p)
	if a := p.get("allOf"); a != nil && a.kind == kArray {
		for _, it := range a.items {
			c.visit(it, top, depth+1)
		}
	}
}

// allOfUnion is what the parts of an allOf declare together.
type allOfUnion struct {
	props    *node // an object node: the properties in order
	byName   map[string]*node
	required []*node
	seenReq  map[string]bool
	ap       *node // the one additionalProperties schema, if any
	closed   bool  // a part says additionalProperties: false
}

// add merges the parts in order, returning a reason when two of them
// disagree.
func (u *allOfUnion) add(parts []*node) string {
	u.props = &node{kind: kObject}
	u.byName = map[string]*node{}
	u.seenReq = map[string]bool{}
	for _, p := range parts {
		if ps := p.get("properties"); ps != nil && ps.kind == kObject {
			for _, m := range ps.members {
				if prev, ok := u.byName[m.key]; ok {
					if prev != m.value && !bytes.Equal(prev.raw, m.value.raw) {
						return fmt.Sprintf("property %q is declared differently by two parts", m.key)
					}
					continue
				}
				u.byName[m.key] = m.value
				u.props.members = append(u.props.members, member{m.key, m.value})
			}
		}
		for _, r := range requiredNames(p) {
			if !u.seenReq[r] {
				u.seenReq[r] = true
				u.required = append(u.required, &node{kind: kString, str: r})
			}
		}
		if a := p.get("additionalProperties"); a != nil {
			switch {
			case a.kind == kBool && !a.boolean:
				u.closed = true
			case a.kind == kBool:
			case u.ap == nil:
				u.ap = a
			case !bytes.Equal(u.ap.raw, a.raw):
				return "two parts declare additionalProperties differently"
			}
		}
	}
	return ""
}

// schema is the merged object schema standing for n: the union's
// properties, required list and additionalProperties, with n's own
// annotations.
func (u *allOfUnion) schema(n *node) *node {
	m := &node{kind: kObject, raw: n.raw}
	m.members = append(m.members, member{"type", &node{kind: kString, str: "object"}}, member{"properties", u.props})
	if len(u.required) > 0 {
		m.members = append(m.members, member{"required", &node{kind: kArray, items: u.required}})
	}
	switch {
	case u.closed:
		m.members = append(m.members, member{"additionalProperties", &node{kind: kBool}})
	case u.ap != nil:
		m.members = append(m.members, member{"additionalProperties", u.ap})
	}
	for _, k := range []string{"description", "prettyName", "title", "enum", "const"} {
		if v := n.get(k); v != nil {
			m.members = append(m.members, member{k, v})
		}
	}
	return m
}
