package pyyaml

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/pycompat"
)

// Python refuses to convert ints of more than 4300 decimal digits to or from
// text (sys.int_info.default_max_str_digits), so dvp crashes on them.
const maxIntDigits = 4300

// DefaultMaxValues bounds the number of values Construct materializes,
// counting every expansion of an alias. It stops "billion laughs" input.
const DefaultMaxValues = 10000

// Issue is a problem found while constructing values.
type Issue struct {
	Pointer string     // JSON pointer of the value concerned
	Node    *yaml.Node // where it is in the file
	Warning bool
	Message string
	Hint    string
}

// Doc is a constructed document: the JSON-like value dvp validates, and
// where each value came from.
type Doc struct {
	// Root is nil, bool, string, json.Number, []any or map[string]any.
	// Ints are json.Number in decimal, floats json.Number in Python repr
	// form (see pycompat.FloatNumber for inf and nan).
	Root any
	// Values maps a JSON pointer to the node of its value (an alias node
	// for a value written as an alias).
	Values map[string]*yaml.Node
	// Keys maps a JSON pointer of an object member to the node of its key.
	Keys map[string]*yaml.Node
	// Order maps an object's pointer to its keys in document order.
	Order map[string][]string
	// Bad holds the pointers whose value could not be represented; Root has
	// a stand-in there and the problem is among the issues.
	Bad map[string]bool
	// Truncated is set when the value limit stopped the conversion: Root is
	// incomplete and should not be validated further.
	Truncated bool
}

// KeysAt returns the keys of the object at the given pointer tokens, in
// document order (for pycompat.Repr).
func (d *Doc) KeysAt(path []string) []string {
	return d.Order[Pointer(path)]
}

// Pointer builds an RFC 6901 JSON pointer from unescaped tokens.
func Pointer(tokens []string) string { return jsonpointer.Join(tokens...) }

func appendPtr(ptr, tok string) string { return ptr + jsonpointer.Join(tok) }

type constructor struct {
	doc     *Doc
	issues  []Issue
	count   int
	max     int
	active  map[*yaml.Node]bool
	stopped bool
	dups    int
	lastDup *yaml.Node
}

// Construct converts the root of a parsed document (the DocumentNode that
// Parse returns, or any node) into a Doc, with PyYAML SafeLoader semantics
// followed by Python's JSON round trip: merge keys are applied, a duplicate
// key keeps its last value (with a warning), keys become JSON strings.
// Values PyYAML would construct but JSON cannot carry (timestamps, binary,
// sets) and tags SafeLoader does not know are reported as errors. maxValues
// <= 0 means DefaultMaxValues.
func Construct(root *yaml.Node, maxValues int) (*Doc, []Issue) {
	if maxValues <= 0 {
		maxValues = DefaultMaxValues
	}
	c := &constructor{
		doc:    &Doc{Values: map[string]*yaml.Node{}, Keys: map[string]*yaml.Node{}, Order: map[string][]string{}, Bad: map[string]bool{}},
		max:    maxValues,
		active: map[*yaml.Node]bool{},
	}
	if root != nil && root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return c.doc, nil
		}
		root = root.Content[0]
	}
	if root == nil {
		return c.doc, nil
	}
	c.doc.Root = c.value(root, "")
	c.doc.Truncated = c.stopped
	if c.dups > maxDuplicateWarnings {
		c.issues = append(c.issues, Issue{Node: c.lastDup, Warning: true,
			Message: fmt.Sprintf("%d more duplicate keys", c.dups-maxDuplicateWarnings),
			Hint:    "remove the repeated entries; dvp (PyYAML) silently keeps the last value of each key"})
	}
	return c.doc, c.issues
}

func (c *constructor) errorf(ptr string, n *yaml.Node, hint, format string, args ...any) {
	c.issues = append(c.issues, Issue{Pointer: ptr, Node: n, Message: fmt.Sprintf(format, args...), Hint: hint})
	c.doc.Bad[ptr] = true
}

func nodeID(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return "scalar"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	}
	return "node"
}

func longTag(tag string) string {
	if strings.HasPrefix(tag, "!!") {
		return tagPrefix + tag[2:]
	}
	return tag
}

// deref follows alias nodes.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 1000; i++ {
		n = n.Alias
	}
	return n
}

func (c *constructor) value(n *yaml.Node, ptr string) any {
	if c.stopped {
		return nil
	}
	c.doc.Values[ptr] = n
	c.count++
	if c.count > c.max {
		c.stopped = true
		c.errorf(ptr, n, "remove the aliases (*name) that repeat large parts of the file",
			"the document expands to more than %d values through aliases (an alias bomb?)", c.max)
		return nil
	}
	target := deref(n)
	if target == nil || target.Kind == yaml.AliasNode {
		c.errorf(ptr, n, "", "unresolvable alias %s", pycompat.ReprString(n.Value))
		return nil
	}
	if c.active[target] {
		c.errorf(ptr, n, "an alias may not refer to a node that contains it",
			"recursive alias %s: the value contains itself and cannot be converted to JSON", pycompat.ReprString(n.Value))
		return nil
	}
	c.active[target] = true
	defer delete(c.active, target)

	switch target.Tag {
	case "!!omap", "!!pairs":
		return c.pairsValue(target, ptr)
	case TagSeq:
		if target.Kind != yaml.SequenceNode {
			c.errorf(ptr, target, "", "expected a sequence node, but found %s", nodeID(target))
			return nil
		}
		out := make([]any, 0, len(target.Content))
		for i, item := range target.Content {
			out = append(out, c.value(item, appendPtr(ptr, strconv.Itoa(i))))
			if c.stopped {
				return out
			}
		}
		return out
	case TagMap:
		if target.Kind != yaml.MappingNode {
			c.errorf(ptr, target, "", "expected a mapping node, but found %s", nodeID(target))
			return nil
		}
		return c.mapping(target, ptr)
	}
	if target.Kind != yaml.ScalarNode {
		switch target.Tag {
		case TagStr, TagInt, TagFloat, TagBool, TagNull, TagTimestamp, "!!binary":
			c.errorf(ptr, target, "", "expected a scalar node, but found %s", nodeID(target))
		default:
			c.errorf(ptr, target, "remove the tag; dvp reads only plain YAML types",
				"could not determine a constructor for the tag %s", pycompat.ReprString(longTag(target.Tag)))
		}
		return nil
	}
	v, problem, hint := ScalarValue(target)
	if problem != "" {
		c.errorf(ptr, target, hint, "%s", problem)
		return target.Value
	}
	return v
}

// ScalarValue constructs a scalar node's value like SafeConstructor and
// returns it in JSON-like form; problem is non-empty when PyYAML would fail
// on it or dvp could not carry the value through JSON.
func ScalarValue(n *yaml.Node) (v any, problem, hint string) {
	switch n.Tag {
	case TagStr:
		return n.Value, "", ""
	case TagNull:
		return nil, "", ""
	case TagBool:
		switch strings.ToLower(n.Value) {
		case "yes", "true", "on":
			return true, "", ""
		case "no", "false", "off":
			return false, "", ""
		}
		return nil, fmt.Sprintf("%s is not a YAML boolean", pycompat.ReprString(n.Value)), "use true or false"
	case TagInt:
		i, err := constructInt(n.Value)
		if err != "" {
			return nil, err, "write a decimal integer, or quote the value to make it a string"
		}
		if len(i.String()) > maxIntDigits+1 {
			return nil, fmt.Sprintf("integer with more than %d digits", maxIntDigits), "quote the value to make it a string"
		}
		return json.Number(i.String()), "", ""
	case TagFloat:
		f, err := constructFloat(n.Value)
		if err != "" {
			return nil, err, "write a decimal number, or quote the value to make it a string"
		}
		return pycompat.FloatNumber(f), "", ""
	case TagTimestamp:
		return nil, fmt.Sprintf("%s is read as a YAML 1.1 timestamp (a date), which cannot be converted to JSON", pycompat.ReprString(n.Value)),
			fmt.Sprintf("quote it to make it a string: '%s'", n.Value)
	case TagMerge:
		return nil, "a merge key (<<) is only allowed as a mapping key", "quote it to make it a string: '<<'"
	case TagValue:
		return nil, "could not determine a constructor for the tag 'tag:yaml.org,2002:value'", "quote it to make it a string: '='"
	case "!!binary":
		return nil, "binary (!!binary) values cannot be converted to JSON", "remove the !!binary tag"
	}
	return nil, fmt.Sprintf("could not determine a constructor for the tag %s", pycompat.ReprString(longTag(n.Tag))),
		"remove the tag; dvp reads only plain YAML types"
}

// constructInt is SafeConstructor.construct_yaml_int.
func constructInt(s string) (*big.Int, string) {
	bad := fmt.Sprintf("invalid literal for int(): %s", pycompat.ReprString(s))
	v := strings.ReplaceAll(s, "_", "")
	if v == "" {
		return nil, bad
	}
	sign := 1
	if v[0] == '-' {
		sign = -1
	}
	if v[0] == '+' || v[0] == '-' {
		v = v[1:]
	}
	parse := func(t string, base int) (*big.Int, bool) {
		t = strings.TrimSpace(t)
		if base == 8 {
			t = strings.TrimPrefix(strings.TrimPrefix(t, "0o"), "0O")
		}
		if t == "" || len(t) > 4*maxIntDigits {
			return nil, false
		}
		i, ok := new(big.Int).SetString(t, base)
		return i, ok
	}
	var i *big.Int
	var ok bool
	switch {
	case v == "0":
		return big.NewInt(0), ""
	case strings.HasPrefix(v, "0b"):
		i, ok = parse(v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		i, ok = parse(v[2:], 16)
	case v != "" && v[0] == '0':
		i, ok = parse(v, 8)
	case strings.Contains(v, ":"):
		i, ok = big.NewInt(0), true
		for _, part := range strings.Split(v, ":") {
			d, pok := parse(part, 10)
			if !pok {
				return nil, bad
			}
			i.Mul(i, big.NewInt(60))
			i.Add(i, d)
		}
	default:
		i, ok = parse(v, 10)
	}
	if !ok {
		return nil, bad
	}
	if sign < 0 {
		i.Neg(i)
	}
	return i, ""
}

// constructFloat is SafeConstructor.construct_yaml_float.
func constructFloat(s string) (float64, string) {
	bad := fmt.Sprintf("could not convert string to float: %s", pycompat.ReprString(s))
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	if v == "" {
		return 0, bad
	}
	sign := 1.0
	if v[0] == '-' {
		sign = -1
	}
	if v[0] == '+' || v[0] == '-' {
		v = v[1:]
	}
	pyFloat := func(t string) (float64, bool) {
		t = strings.TrimSpace(t)
		// Go accepts hex floats and underscores that Python's float() does not.
		if t == "" || strings.ContainsAny(t, "xp_") && !isInfNan(t) {
			return 0, false
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	}
	switch {
	case v == ".inf":
		return sign * math.Inf(1), ""
	case v == ".nan":
		return math.NaN(), ""
	case strings.Contains(v, ":"):
		total, base := 0.0, 1.0
		parts := strings.Split(v, ":")
		for i := len(parts) - 1; i >= 0; i-- {
			d, ok := pyFloat(parts[i])
			if !ok {
				return 0, bad
			}
			total += d * base
			base *= 60
		}
		return sign * total, ""
	}
	f, ok := pyFloat(v)
	if !ok {
		return 0, bad
	}
	return sign * f, ""
}

func isInfNan(t string) bool {
	switch strings.TrimLeft(t, "+-") {
	case "inf", "infinity", "nan":
		return true
	}
	return false
}

type pair struct {
	key, value *yaml.Node
	merged     bool
}

// flatten is SafeConstructor.flatten_mapping without mutating the tree:
// it returns the pairs of a mapping with merge keys expanded (merged pairs
// first, so the mapping's own keys override them).
func (c *constructor) flatten(n *yaml.Node, ptr string, depth int) []pair {
	if depth > DefaultMaxDepth {
		c.errorf(ptr, n, "", "merge keys nested more than %d levels deep", DefaultMaxDepth)
		return nil
	}
	var merge, own []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kt := deref(k)
		if kt != nil && kt.Kind == yaml.ScalarNode && kt.Tag == TagMerge {
			vt := deref(v)
			c.count++
			if c.count > c.max {
				c.stopped = true
				c.errorf(ptr, v, "remove the aliases (*name) that repeat large parts of the file",
					"the document expands to more than %d values through aliases (an alias bomb?)", c.max)
				return nil
			}
			switch {
			case vt != nil && vt.Kind == yaml.MappingNode:
				if c.active[vt] {
					c.errorf(ptr, v, "", "recursive merge key")
					return nil
				}
				c.active[vt] = true
				for _, p := range c.flatten(vt, ptr, depth+1) {
					p.merged = true
					merge = append(merge, p)
				}
				delete(c.active, vt)
			case vt != nil && vt.Kind == yaml.SequenceNode:
				var sub [][]pair
				for _, item := range vt.Content {
					it := deref(item)
					if it == nil || it.Kind != yaml.MappingNode {
						id := "node"
						if it != nil {
							id = nodeID(it)
						}
						c.errorf(ptr, item, "each entry of a merge list must be a mapping",
							"while constructing a mapping: expected a mapping for merging, but found %s", id)
						return nil
					}
					if c.active[it] {
						c.errorf(ptr, item, "", "recursive merge key")
						return nil
					}
					c.active[it] = true
					sub = append(sub, c.flatten(it, ptr, depth+1))
					delete(c.active, it)
				}
				for i := len(sub) - 1; i >= 0; i-- {
					for _, p := range sub[i] {
						p.merged = true
						merge = append(merge, p)
					}
				}
			default:
				id := "node"
				if vt != nil {
					id = nodeID(vt)
				}
				c.errorf(ptr, v, "merge (<<) needs a mapping or a list of mappings",
					"while constructing a mapping: expected a mapping or list of mappings for merging, but found %s", id)
				return nil
			}
			continue
		}
		own = append(own, pair{key: k, value: v})
	}
	return append(merge, own...)
}

func (c *constructor) mapping(n *yaml.Node, ptr string) map[string]any {
	// Two steps, as in dvp: PyYAML builds a Python dict (where 1, 1.0 and
	// True are the same key), then json.dumps/json.loads turns it into an
	// object with string keys (where two different keys may print the
	// same). In both, a repeated key keeps its first position and its last
	// value.
	type entry struct {
		text   string // the key as JSON text
		keyN   *yaml.Node
		valN   *yaml.Node
		merged bool
	}
	var entries []*entry
	byIdentity := map[string]*entry{}
	pairs := c.flatten(n, ptr, 0)
	for _, p := range pairs {
		text, identity, ok := c.key(p.key, ptr)
		if !ok {
			continue
		}
		if e, seen := byIdentity[identity]; seen {
			if !p.merged && !e.merged {
				c.duplicate(ptr, e.text, e.keyN, p.key)
			}
			e.valN, e.merged = p.value, p.merged && e.merged
			continue
		}
		e := &entry{text: text, keyN: p.key, valN: p.value, merged: p.merged}
		byIdentity[identity] = e
		entries = append(entries, e)
	}
	out := map[string]any{}
	var order []string
	first := map[string]*entry{}
	for _, e := range entries {
		if c.stopped {
			break
		}
		kptr := appendPtr(ptr, e.text)
		if prev, seen := first[e.text]; seen {
			c.duplicate(ptr, e.text, prev.keyN, e.keyN)
			// Problems recorded under the replaced value no longer apply
			// (the set is small, so scanning it is cheap).
			for q := range c.doc.Bad {
				if q == kptr || strings.HasPrefix(q, kptr+"/") {
					delete(c.doc.Bad, q)
				}
			}
		} else {
			first[e.text] = e
			order = append(order, e.text)
		}
		c.doc.Keys[kptr] = e.keyN
		out[e.text] = c.value(e.valN, kptr)
	}
	c.doc.Order[ptr] = order
	return out
}

// maxDuplicateWarnings bounds the duplicate-key warnings of a document;
// the rest are summed up in one last warning.
const maxDuplicateWarnings = 20

func (c *constructor) duplicate(ptr, text string, first, again *yaml.Node) {
	c.dups++
	c.lastDup = again
	if c.dups > maxDuplicateWarnings {
		return
	}
	c.issues = append(c.issues, Issue{
		Pointer: appendPtr(ptr, text), Node: again, Warning: true,
		Message: fmt.Sprintf("duplicate key %s: this entry (line %d) replaces the one at line %d", pycompat.ReprString(text), again.Line, first.Line),
		Hint:    "remove one of the two entries; dvp (PyYAML) silently keeps the last one",
	})
}

// pairsValue constructs !!omap and !!pairs: a sequence of one-entry
// mappings becomes a list of [key, value] lists (Python tuples after JSON).
func (c *constructor) pairsValue(n *yaml.Node, ptr string) any {
	what := "an ordered map"
	if n.Tag != "!!omap" {
		what = "pairs"
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(ptr, n, "", "while constructing %s: expected a sequence, but found %s", what, nodeID(n))
		return nil
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		ip := appendPtr(ptr, strconv.Itoa(i))
		it := deref(item)
		if it == nil || it.Kind != yaml.MappingNode {
			c.errorf(ip, item, "", "while constructing %s: expected a mapping of length 1, but found %s", what, nodeID(it))
			return nil
		}
		if len(it.Content) != 2 {
			c.errorf(ip, item, "", "while constructing %s: expected a single mapping item, but found %d items", what, len(it.Content)/2)
			return nil
		}
		c.doc.Values[ip] = item
		k := c.value(it.Content[0], appendPtr(ip, "0"))
		v := c.value(it.Content[1], appendPtr(ip, "1"))
		out = append(out, []any{k, v})
		if c.stopped {
			break
		}
	}
	return out
}

// key converts a mapping key to the string json.dumps would write, and to
// an identity under which Python's dict would consider two keys equal.
func (c *constructor) key(k *yaml.Node, ptr string) (text, identity string, ok bool) {
	kt := deref(k)
	if kt == nil {
		return "", "", false
	}
	if kt.Kind != yaml.ScalarNode {
		c.errorf(ptr, k, "use a plain string as the key",
			"while constructing a mapping: found unhashable key (a %s)", nodeID(kt))
		return "", "", false
	}
	if kt.Tag == TagValue { // flatten_mapping turns a '=' key into a string
		return kt.Value, "s:" + kt.Value, true
	}
	v, problem, hint := ScalarValue(kt)
	if problem != "" {
		c.errorf(ptr, k, hint, "%s", problem)
		return "", "", false
	}
	switch v := v.(type) {
	case nil:
		return "null", "null", true
	case bool:
		if v {
			return "true", "n:1", true
		}
		return "false", "n:0", true
	case string:
		return v, "s:" + v, true
	case json.Number:
		if !pycompat.IsFloatNumber(v) {
			return string(v), "n:" + string(v), true
		}
		f, _ := strconv.ParseFloat(pycompat.ReprNumber(v), 64)
		switch {
		case math.IsNaN(f):
			// NaN never equals itself: every NaN key is a new key.
			c.count++
			return "NaN", fmt.Sprintf("nan:%d", c.count), true
		case math.IsInf(f, 1):
			return "Infinity", "inf", true
		case math.IsInf(f, -1):
			return "-Infinity", "-inf", true
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e300 {
			bf := new(big.Float).SetFloat64(f)
			bi, _ := bf.Int(nil)
			return pycompat.ReprFloat(f), "n:" + bi.String(), true
		}
		return pycompat.ReprFloat(f), "f:" + pycompat.ReprFloat(f), true
	}
	return kt.Value, "s:" + kt.Value, true
}
