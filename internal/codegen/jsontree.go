package codegen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// node is a parsed JSON value that keeps the order of object members, which
// Go's map-based decoding loses (property order decides field order).
type node struct {
	kind    nodeKind
	str     string // string value, or the literal text of a number
	boolean bool
	members []member // object, in document order (a repeated key keeps its first position and last value)
	items   []*node  // array
	raw     []byte   // the source text of the value
}

type member struct {
	key   string
	value *node
}

type nodeKind uint8

const (
	kNull nodeKind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k nodeKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// get returns the value of an object member, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for i := range n.members {
		if n.members[i].key == key {
			return n.members[i].value
		}
	}
	return nil
}

func (n *node) has(key string) bool { return n.get(key) != nil }

// text returns the string value of a member, or "".
func (n *node) text(key string) string {
	if v := n.get(key); v != nil && v.kind == kString {
		return v.str
	}
	return ""
}

// parseJSON parses one JSON document.
func parseJSON(data []byte) (*node, error) {
	p := parser{data: data}
	p.ws()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.data) {
		return nil, p.errorf("unexpected data after the JSON value")
	}
	return n, nil
}

type parser struct {
	data []byte
	i    int
}

const maxDepth = 10000

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.i >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	start := p.i
	var n *node
	var err error
	switch c := p.data[p.i]; {
	case c == '{':
		n, err = p.object(depth)
	case c == '[':
		n, err = p.array(depth)
	case c == '"':
		var s string
		s, err = p.string()
		n = &node{kind: kString, str: s}
	case c == 't' || c == 'f' || c == 'n':
		n, err = p.literal()
	default:
		n, err = p.number()
	}
	if err != nil {
		return nil, err
	}
	n.raw = p.data[start:p.i]
	return n, nil
}

func (p *parser) object(depth int) (*node, error) {
	p.i++ // {
	n := &node{kind: kObject}
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return n, nil
	}
	index := map[string]int{}
	for {
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.errorf("expected a property name")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.i++
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if at, dup := index[key]; dup {
			n.members[at].value = v
		} else {
			index[key] = len(n.members)
			n.members = append(n.members, member{key, v})
		}
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			return n, nil
		}
		return nil, p.errorf("expected ',' or '}'")
	}
}

func (p *parser) array(depth int) (*node, error) {
	p.i++ // [
	n := &node{kind: kArray}
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, v)
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			return n, nil
		}
		return nil, p.errorf("expected ',' or ']'")
	}
}

func (p *parser) string() (string, error) {
	start := p.i
	simple := true
	for j := p.i + 1; j < len(p.data); j++ {
		c := p.data[j]
		switch {
		case c == '\\':
			simple = false
			j++
		case c == '"':
			p.i = j + 1
			lit := p.data[start:p.i]
			if simple && utf8.Valid(lit) {
				return string(lit[1 : len(lit)-1]), nil
			}
			var s string
			if err := json.Unmarshal(lit, &s); err != nil {
				p.i = start
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c < 0x20:
			p.i = j
			return "", p.errorf("control character in string")
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) literal() (*node, error) {
	for _, lit := range []struct {
		text string
		n    node
	}{{"true", node{kind: kBool, boolean: true}}, {"false", node{kind: kBool}}, {"null", node{kind: kNull}}} {
		if len(p.data)-p.i >= len(lit.text) && string(p.data[p.i:p.i+len(lit.text)]) == lit.text {
			p.i += len(lit.text)
			n := lit.n
			return &n, nil
		}
	}
	return nil, p.errorf("invalid literal")
}

func (p *parser) number() (*node, error) {
	start := p.i
	for _, lit := range []string{"NaN", "Infinity", "-Infinity"} {
		if len(p.data)-p.i >= len(lit) && string(p.data[p.i:p.i+len(lit)]) == lit {
			// Python's json (and so dvp's validation) reads these; JSON
			// and the generated code have no such number.
			return nil, p.errorf("%s is not a JSON number (dvp's validation accepts it with a warning); the code generator needs a finite number: write one, or leave the keyword out", lit)
		}
	}
	for p.i < len(p.data) {
		c := p.data[p.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	text := string(p.data[start:p.i])
	if text == "" || !json.Valid(p.data[start:p.i]) {
		p.i = start
		return nil, p.errorf("invalid number")
	}
	return &node{kind: kNumber, str: text}, nil
}

// float returns the value of a number node.
func (n *node) float() (float64, bool) {
	if n == nil || n.kind != kNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.str, 64)
	return f, err == nil
}
