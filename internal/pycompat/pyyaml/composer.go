package pyyaml

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Tags of the YAML 1.1 types PyYAML's SafeLoader knows.
const (
	tagPrefix    = "tag:yaml.org,2002:"
	TagStr       = "!!str"
	TagInt       = "!!int"
	TagFloat     = "!!float"
	TagBool      = "!!bool"
	TagNull      = "!!null"
	TagTimestamp = "!!timestamp"
	TagMerge     = "!!merge"
	TagValue     = "!!value"
	TagSeq       = "!!seq"
	TagMap       = "!!map"
)

// shortTag turns "tag:yaml.org,2002:x" into "!!x" as yaml.v3 does; other
// tags are kept as written (after handle expansion).
func shortTag(tag string) string {
	if strings.HasPrefix(tag, tagPrefix) {
		return "!!" + tag[len(tagPrefix):]
	}
	return tag
}

// Implicit resolvers of PyYAML's Resolver, in registration order, keyed by
// the first character they apply to.
type implicitResolver struct {
	tag   string
	re    *regexp.Regexp
	first string
}

// implicitResolvers compiles them on first use, not at init.
var implicitResolvers = sync.OnceValue(func() []implicitResolver {
	return []implicitResolver{
		{TagBool, regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`), "yYnNtTfFoO"},
		{TagFloat, regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`), "-+0123456789."},
		{TagInt, regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`), "-+0123456789"},
		{TagMerge, regexp.MustCompile(`^(?:<<)$`), "<"},
		{TagNull, regexp.MustCompile(`^(?:~|null|Null|NULL|)$`), "~nN"},
		{TagTimestamp, regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`), "0123456789"},
		{TagValue, regexp.MustCompile(`^(?:=)$`), "="},
	}
})

// ResolveScalar returns the tag PyYAML's resolver gives a plain scalar.
func ResolveScalar(value string) string {
	for _, r := range implicitResolvers() {
		if value == "" {
			if r.tag == TagNull {
				return TagNull
			}
			continue
		}
		if strings.IndexByte(r.first, value[0]) >= 0 && r.re.MatchString(value) {
			return r.tag
		}
	}
	return TagStr
}

type composer struct {
	p       *parser
	anchors map[string]*yaml.Node
	marks   map[*yaml.Node]Mark
}

func (c *composer) fail(context string, contextMark *Mark, problem string, problemMark Mark) {
	panic(scanError{&Error{Kind: KindComposer, Context: context, ContextMark: contextMark, Problem: problem, ProblemMark: markPtr(problemMark)}})
}

// getSingleNode is Composer.get_single_node: it returns nil for an empty
// stream and fails when the stream holds more than one document.
func (c *composer) getSingleNode() *yaml.Node {
	c.p.getEvent() // STREAM-START
	var doc *yaml.Node
	var docStart Mark
	if !c.p.checkEvent(eStreamEnd) {
		docStart = c.p.peekEvent().start
		doc = c.composeDocument()
	}
	if !c.p.checkEvent(eStreamEnd) {
		e := c.p.getEvent()
		c.fail("expected a single document in the stream", &docStart, "but found another document", e.start)
	}
	c.p.getEvent() // STREAM-END
	return doc
}

func (c *composer) composeDocument() *yaml.Node {
	start := c.p.getEvent() // DOCUMENT-START
	root := c.composeNode()
	c.p.getEvent() // DOCUMENT-END
	c.anchors = map[string]*yaml.Node{}
	l, col := start.start.Pos()
	return &yaml.Node{Kind: yaml.DocumentNode, Line: l, Column: col, Content: []*yaml.Node{root}}
}

func (c *composer) setPos(n *yaml.Node, m Mark) {
	n.Line, n.Column = m.Pos()
	c.marks[n] = m
}

func (c *composer) composeNode() *yaml.Node {
	if c.p.checkEvent(eAlias) {
		e := c.p.getEvent()
		target, ok := c.anchors[e.anchor]
		if !ok {
			c.fail("", nil, fmt.Sprintf("found undefined alias %s", pyReprString(e.anchor)), e.start)
		}
		n := &yaml.Node{Kind: yaml.AliasNode, Value: e.anchor, Alias: target}
		c.setPos(n, e.start)
		return n
	}
	e := c.p.peekEvent()
	if e.hasAnchor {
		if prev, dup := c.anchors[e.anchor]; dup {
			pm := c.marks[prev]
			c.fail(fmt.Sprintf("found duplicate anchor %s; first occurrence", pyReprString(e.anchor)), &pm, "second occurrence", e.start)
		}
	}
	switch e.kind {
	case eScalar:
		return c.composeScalar()
	case eSequenceStart:
		return c.composeSequence()
	case eMappingStart:
		return c.composeMapping()
	}
	c.fail("", nil, "unexpected event", e.start)
	return nil
}

func (c *composer) composeScalar() *yaml.Node {
	e := c.p.getEvent()
	tag := e.tag
	if tag == "" || tag == "!" {
		if e.implicit[0] {
			tag = ResolveScalar(e.value)
		} else {
			tag = TagStr
		}
	} else {
		tag = shortTag(tag)
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: e.value, Anchor: e.anchor}
	switch e.style {
	case '\'':
		n.Style = yaml.SingleQuotedStyle
	case '"':
		n.Style = yaml.DoubleQuotedStyle
	case '|':
		n.Style = yaml.LiteralStyle
	case '>':
		n.Style = yaml.FoldedStyle
	}
	if e.tag != "" {
		n.Style |= yaml.TaggedStyle
	}
	c.setPos(n, e.start)
	if e.hasAnchor {
		c.anchors[e.anchor] = n
	}
	return n
}

func (c *composer) composeSequence() *yaml.Node {
	e := c.p.getEvent()
	tag := TagSeq
	if e.tag != "" && e.tag != "!" {
		tag = shortTag(e.tag)
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: tag, Anchor: e.anchor}
	if e.flowStyle {
		n.Style |= yaml.FlowStyle
	}
	if e.tag != "" {
		n.Style |= yaml.TaggedStyle
	}
	c.setPos(n, e.start)
	if e.hasAnchor {
		c.anchors[e.anchor] = n
	}
	for !c.p.checkEvent(eSequenceEnd) {
		n.Content = append(n.Content, c.composeNode())
	}
	c.p.getEvent()
	return n
}

func (c *composer) composeMapping() *yaml.Node {
	e := c.p.getEvent()
	tag := TagMap
	if e.tag != "" && e.tag != "!" {
		tag = shortTag(e.tag)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: tag, Anchor: e.anchor}
	if e.flowStyle {
		n.Style |= yaml.FlowStyle
	}
	if e.tag != "" {
		n.Style |= yaml.TaggedStyle
	}
	c.setPos(n, e.start)
	if e.hasAnchor {
		c.anchors[e.anchor] = n
	}
	for !c.p.checkEvent(eMappingEnd) {
		k := c.composeNode()
		v := c.composeNode()
		n.Content = append(n.Content, k, v)
	}
	c.p.getEvent()
	return n
}
