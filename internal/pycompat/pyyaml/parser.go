package pyyaml

import "fmt"

// The parser is a port of PyYAML's parser.py: a state machine that turns
// tokens into events.

type eventKind int

const (
	eStreamStart eventKind = iota
	eStreamEnd
	eDocumentStart
	eDocumentEnd
	eAlias
	eScalar
	eSequenceStart
	eSequenceEnd
	eMappingStart
	eMappingEnd
)

type event struct {
	kind       eventKind
	start, end Mark
	anchor     string
	hasAnchor  bool
	tag        string // resolved tag; "" when absent
	// implicit flags as in PyYAML: for scalars (plain-resolvable,
	// quoted-resolvable); for collections only implicit[0] is used.
	implicit  [2]bool
	value     string
	style     byte
	flowStyle bool
}

var defaultTags = map[string]string{"!": "!", "!!": "tag:yaml.org,2002:"}

type parser struct {
	s          *scanner
	current    *event
	tagHandles map[string]string
	states     []func() event
	marks      []Mark
	state      func() event
	maxDepth   int
}

func newParser(s *scanner, maxDepth int) *parser {
	p := &parser{s: s, maxDepth: maxDepth}
	p.state = p.parseStreamStart
	return p
}

func (p *parser) fail(context string, contextMark *Mark, problem string, problemMark Mark) {
	panic(scanError{&Error{Kind: KindParser, Context: context, ContextMark: contextMark, Problem: problem, ProblemMark: markPtr(problemMark)}})
}

func (p *parser) pushState(f func() event) {
	p.states = append(p.states, f)
	if p.maxDepth > 0 && len(p.states) > p.maxDepth+1 {
		t := p.s.peekToken()
		panic(scanError{&Error{Kind: KindLimit, Problem: fmt.Sprintf("the document is nested more than %d levels deep", p.maxDepth), ProblemMark: markPtr(t.start)}})
	}
}

func (p *parser) popState() func() event {
	f := p.states[len(p.states)-1]
	p.states = p.states[:len(p.states)-1]
	return f
}

func (p *parser) checkEvent(kinds ...eventKind) bool {
	if p.current == nil && p.state != nil {
		e := p.state()
		p.current = &e
	}
	if p.current != nil {
		if len(kinds) == 0 {
			return true
		}
		for _, k := range kinds {
			if p.current.kind == k {
				return true
			}
		}
	}
	return false
}

func (p *parser) peekEvent() *event {
	if p.current == nil && p.state != nil {
		e := p.state()
		p.current = &e
	}
	return p.current
}

func (p *parser) getEvent() event {
	if p.current == nil && p.state != nil {
		e := p.state()
		p.current = &e
	}
	e := p.current
	p.current = nil
	if e == nil {
		panic(scanError{&Error{Kind: KindParser, Problem: "unexpected end of event stream", ProblemMark: markPtr(p.s.mark)}})
	}
	return *e
}

func (p *parser) parseStreamStart() event {
	t := p.s.getToken()
	p.state = p.parseImplicitDocumentStart
	return event{kind: eStreamStart, start: t.start, end: t.end}
}

func (p *parser) parseImplicitDocumentStart() event {
	if !p.s.checkToken(tDirective, tDocumentStart, tStreamEnd) {
		p.tagHandles = defaultTags
		t := p.s.peekToken()
		p.pushState(p.parseDocumentEnd)
		p.state = p.parseBlockNode
		return event{kind: eDocumentStart, start: t.start, end: t.start}
	}
	return p.parseDocumentStart()
}

func (p *parser) parseDocumentStart() event {
	for p.s.checkToken(tDocumentEnd) {
		p.s.getToken()
	}
	if !p.s.checkToken(tStreamEnd) {
		start := p.s.peekToken().start
		p.processDirectives()
		if !p.s.checkToken(tDocumentStart) {
			t := p.s.peekToken()
			p.fail("", nil, fmt.Sprintf("expected '<document start>', but found %s", pyReprString(tokenIDs[t.kind])), t.start)
		}
		t := p.s.getToken()
		p.pushState(p.parseDocumentEnd)
		p.state = p.parseDocumentContent
		return event{kind: eDocumentStart, start: start, end: t.end}
	}
	t := p.s.getToken()
	p.state = nil
	return event{kind: eStreamEnd, start: t.start, end: t.end}
}

func (p *parser) parseDocumentEnd() event {
	t := p.s.peekToken()
	start, end := t.start, t.start
	if p.s.checkToken(tDocumentEnd) {
		t := p.s.getToken()
		end = t.end
	}
	p.state = p.parseDocumentStart
	return event{kind: eDocumentEnd, start: start, end: end}
}

func (p *parser) parseDocumentContent() event {
	if p.s.checkToken(tDirective, tDocumentStart, tDocumentEnd, tStreamEnd) {
		e := p.processEmptyScalar(p.s.peekToken().start)
		p.state = p.popState()
		return e
	}
	return p.parseBlockNode()
}

func (p *parser) processDirectives() {
	yamlVersionSeen := false
	p.tagHandles = map[string]string{}
	for p.s.checkToken(tDirective) {
		t := p.s.getToken()
		switch t.value {
		case "YAML":
			if yamlVersionSeen {
				p.fail("", nil, "found duplicate YAML directive", t.start)
			}
			if t.major != 1 {
				p.fail("", nil, "found incompatible YAML document (version 1.* is required)", t.start)
			}
			yamlVersionSeen = true
		case "TAG":
			if _, dup := p.tagHandles[t.tagDirHandle]; dup {
				p.fail("", nil, fmt.Sprintf("duplicate tag handle %s", pyReprString(t.tagDirHandle)), t.start)
			}
			p.tagHandles[t.tagDirHandle] = t.tagDirPrefix
		}
	}
	for k, v := range defaultTags {
		if _, ok := p.tagHandles[k]; !ok {
			p.tagHandles[k] = v
		}
	}
}

func (p *parser) parseBlockNode() event                     { return p.parseNode(true, false) }
func (p *parser) parseFlowNode() event                      { return p.parseNode(false, false) }
func (p *parser) parseBlockNodeOrIndentlessSequence() event { return p.parseNode(true, true) }

func (p *parser) parseNode(block, indentlessSequence bool) event {
	if p.s.checkToken(tAlias) {
		t := p.s.getToken()
		p.state = p.popState()
		return event{kind: eAlias, anchor: t.value, hasAnchor: true, start: t.start, end: t.end}
	}
	var anchor string
	hasAnchor := false
	var tagTok *token
	var start, end, tagMark Mark
	haveStart := false
	if p.s.checkToken(tAnchor) {
		t := p.s.getToken()
		start, end = t.start, t.end
		haveStart = true
		anchor, hasAnchor = t.value, true
		if p.s.checkToken(tTag) {
			t := p.s.getToken()
			tagMark, end = t.start, t.end
			tagTok = &t
		}
	} else if p.s.checkToken(tTag) {
		t := p.s.getToken()
		start, tagMark, end = t.start, t.start, t.end
		haveStart = true
		tagTok = &t
		if p.s.checkToken(tAnchor) {
			t := p.s.getToken()
			end = t.end
			anchor, hasAnchor = t.value, true
		}
	}
	tag := ""
	hasTag := tagTok != nil
	if hasTag {
		if tagTok.hasHandle {
			prefix, ok := p.tagHandles[tagTok.handle]
			if !ok {
				st := start
				p.fail("while parsing a node", &st, fmt.Sprintf("found undefined tag handle %s", pyReprString(tagTok.handle)), tagMark)
			}
			tag = prefix + tagTok.suffix
		} else {
			tag = tagTok.suffix
		}
	}
	if !haveStart {
		start = p.s.peekToken().start
		end = start
	}
	implicit := !hasTag || tag == "!"
	if indentlessSequence && p.s.checkToken(tBlockEntry) {
		end = p.s.peekToken().end
		p.state = p.parseIndentlessSequenceEntry
		return event{kind: eSequenceStart, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit}, start: start, end: end}
	}
	switch {
	case p.s.checkToken(tScalar):
		t := p.s.getToken()
		end = t.end
		var imp [2]bool
		switch {
		case (t.plain && !hasTag) || tag == "!":
			imp = [2]bool{true, false}
		case !hasTag:
			imp = [2]bool{false, true}
		}
		p.state = p.popState()
		return event{kind: eScalar, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: imp, value: t.value, style: t.style, start: start, end: end}
	case p.s.checkToken(tFlowSequenceStart):
		end = p.s.peekToken().end
		p.state = p.parseFlowSequenceFirstEntry
		return event{kind: eSequenceStart, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit}, start: start, end: end, flowStyle: true}
	case p.s.checkToken(tFlowMappingStart):
		end = p.s.peekToken().end
		p.state = p.parseFlowMappingFirstKey
		return event{kind: eMappingStart, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit}, start: start, end: end, flowStyle: true}
	case block && p.s.checkToken(tBlockSequenceStart):
		end = p.s.peekToken().start
		p.state = p.parseBlockSequenceFirstEntry
		return event{kind: eSequenceStart, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit}, start: start, end: end}
	case block && p.s.checkToken(tBlockMappingStart):
		end = p.s.peekToken().start
		p.state = p.parseBlockMappingFirstKey
		return event{kind: eMappingStart, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit}, start: start, end: end}
	case hasAnchor || hasTag:
		p.state = p.popState()
		return event{kind: eScalar, anchor: anchor, hasAnchor: hasAnchor, tag: tag, implicit: [2]bool{implicit, false}, value: "", start: start, end: end}
	}
	node := "flow"
	if block {
		node = "block"
	}
	t := p.s.peekToken()
	st := start
	p.fail("while parsing a "+node+" node", &st, fmt.Sprintf("expected the node content, but found %s", pyReprString(tokenIDs[t.kind])), t.start)
	return event{}
}

func (p *parser) parseBlockSequenceFirstEntry() event {
	t := p.s.getToken()
	p.marks = append(p.marks, t.start)
	return p.parseBlockSequenceEntry()
}

func (p *parser) popMark() {
	p.marks = p.marks[:len(p.marks)-1]
}

func (p *parser) lastMark() *Mark {
	m := p.marks[len(p.marks)-1]
	return &m
}

func (p *parser) parseBlockSequenceEntry() event {
	if p.s.checkToken(tBlockEntry) {
		t := p.s.getToken()
		if !p.s.checkToken(tBlockEntry, tBlockEnd) {
			p.pushState(p.parseBlockSequenceEntry)
			return p.parseBlockNode()
		}
		p.state = p.parseBlockSequenceEntry
		return p.processEmptyScalar(t.end)
	}
	if !p.s.checkToken(tBlockEnd) {
		t := p.s.peekToken()
		p.fail("while parsing a block collection", p.lastMark(), fmt.Sprintf("expected <block end>, but found %s", pyReprString(tokenIDs[t.kind])), t.start)
	}
	t := p.s.getToken()
	p.state = p.popState()
	p.popMark()
	return event{kind: eSequenceEnd, start: t.start, end: t.end}
}

func (p *parser) parseIndentlessSequenceEntry() event {
	if p.s.checkToken(tBlockEntry) {
		t := p.s.getToken()
		if !p.s.checkToken(tBlockEntry, tKey, tValue, tBlockEnd) {
			p.pushState(p.parseIndentlessSequenceEntry)
			return p.parseBlockNode()
		}
		p.state = p.parseIndentlessSequenceEntry
		return p.processEmptyScalar(t.end)
	}
	t := p.s.peekToken()
	p.state = p.popState()
	return event{kind: eSequenceEnd, start: t.start, end: t.start}
}

func (p *parser) parseBlockMappingFirstKey() event {
	t := p.s.getToken()
	p.marks = append(p.marks, t.start)
	return p.parseBlockMappingKey()
}

func (p *parser) parseBlockMappingKey() event {
	if p.s.checkToken(tKey) {
		t := p.s.getToken()
		if !p.s.checkToken(tKey, tValue, tBlockEnd) {
			p.pushState(p.parseBlockMappingValue)
			return p.parseBlockNodeOrIndentlessSequence()
		}
		p.state = p.parseBlockMappingValue
		return p.processEmptyScalar(t.end)
	}
	if !p.s.checkToken(tBlockEnd) {
		t := p.s.peekToken()
		p.fail("while parsing a block mapping", p.lastMark(), fmt.Sprintf("expected <block end>, but found %s", pyReprString(tokenIDs[t.kind])), t.start)
	}
	t := p.s.getToken()
	p.state = p.popState()
	p.popMark()
	return event{kind: eMappingEnd, start: t.start, end: t.end}
}

func (p *parser) parseBlockMappingValue() event {
	if p.s.checkToken(tValue) {
		t := p.s.getToken()
		if !p.s.checkToken(tKey, tValue, tBlockEnd) {
			p.pushState(p.parseBlockMappingKey)
			return p.parseBlockNodeOrIndentlessSequence()
		}
		p.state = p.parseBlockMappingKey
		return p.processEmptyScalar(t.end)
	}
	p.state = p.parseBlockMappingKey
	return p.processEmptyScalar(p.s.peekToken().start)
}

func (p *parser) parseFlowSequenceFirstEntry() event {
	t := p.s.getToken()
	p.marks = append(p.marks, t.start)
	return p.parseFlowSequenceEntry(true)
}

func (p *parser) parseFlowSequenceEntryNext() event { return p.parseFlowSequenceEntry(false) }

func (p *parser) parseFlowSequenceEntry(first bool) event {
	if !p.s.checkToken(tFlowSequenceEnd) {
		if !first {
			if p.s.checkToken(tFlowEntry) {
				p.s.getToken()
			} else {
				t := p.s.peekToken()
				p.fail("while parsing a flow sequence", p.lastMark(), fmt.Sprintf("expected ',' or ']', but got %s", pyReprString(tokenIDs[t.kind])), t.start)
			}
		}
		if p.s.checkToken(tKey) {
			t := p.s.peekToken()
			p.state = p.parseFlowSequenceEntryMappingKey
			return event{kind: eMappingStart, implicit: [2]bool{true}, start: t.start, end: t.end, flowStyle: true}
		} else if !p.s.checkToken(tFlowSequenceEnd) {
			p.pushState(p.parseFlowSequenceEntryNext)
			return p.parseFlowNode()
		}
	}
	t := p.s.getToken()
	p.state = p.popState()
	p.popMark()
	return event{kind: eSequenceEnd, start: t.start, end: t.end}
}

func (p *parser) parseFlowSequenceEntryMappingKey() event {
	t := p.s.getToken()
	if !p.s.checkToken(tValue, tFlowEntry, tFlowSequenceEnd) {
		p.pushState(p.parseFlowSequenceEntryMappingValue)
		return p.parseFlowNode()
	}
	p.state = p.parseFlowSequenceEntryMappingValue
	return p.processEmptyScalar(t.end)
}

func (p *parser) parseFlowSequenceEntryMappingValue() event {
	if p.s.checkToken(tValue) {
		t := p.s.getToken()
		if !p.s.checkToken(tFlowEntry, tFlowSequenceEnd) {
			p.pushState(p.parseFlowSequenceEntryMappingEnd)
			return p.parseFlowNode()
		}
		p.state = p.parseFlowSequenceEntryMappingEnd
		return p.processEmptyScalar(t.end)
	}
	p.state = p.parseFlowSequenceEntryMappingEnd
	return p.processEmptyScalar(p.s.peekToken().start)
}

func (p *parser) parseFlowSequenceEntryMappingEnd() event {
	p.state = p.parseFlowSequenceEntryNext
	t := p.s.peekToken()
	return event{kind: eMappingEnd, start: t.start, end: t.start}
}

func (p *parser) parseFlowMappingFirstKey() event {
	t := p.s.getToken()
	p.marks = append(p.marks, t.start)
	return p.parseFlowMappingKey(true)
}

func (p *parser) parseFlowMappingKeyNext() event { return p.parseFlowMappingKey(false) }

func (p *parser) parseFlowMappingKey(first bool) event {
	if !p.s.checkToken(tFlowMappingEnd) {
		if !first {
			if p.s.checkToken(tFlowEntry) {
				p.s.getToken()
			} else {
				t := p.s.peekToken()
				p.fail("while parsing a flow mapping", p.lastMark(), fmt.Sprintf("expected ',' or '}', but got %s", pyReprString(tokenIDs[t.kind])), t.start)
			}
		}
		if p.s.checkToken(tKey) {
			t := p.s.getToken()
			if !p.s.checkToken(tValue, tFlowEntry, tFlowMappingEnd) {
				p.pushState(p.parseFlowMappingValue)
				return p.parseFlowNode()
			}
			p.state = p.parseFlowMappingValue
			return p.processEmptyScalar(t.end)
		} else if !p.s.checkToken(tFlowMappingEnd) {
			p.pushState(p.parseFlowMappingEmptyValue)
			return p.parseFlowNode()
		}
	}
	t := p.s.getToken()
	p.state = p.popState()
	p.popMark()
	return event{kind: eMappingEnd, start: t.start, end: t.end}
}

func (p *parser) parseFlowMappingValue() event {
	if p.s.checkToken(tValue) {
		t := p.s.getToken()
		if !p.s.checkToken(tFlowEntry, tFlowMappingEnd) {
			p.pushState(p.parseFlowMappingKeyNext)
			return p.parseFlowNode()
		}
		p.state = p.parseFlowMappingKeyNext
		return p.processEmptyScalar(t.end)
	}
	p.state = p.parseFlowMappingKeyNext
	return p.processEmptyScalar(p.s.peekToken().start)
}

func (p *parser) parseFlowMappingEmptyValue() event {
	p.state = p.parseFlowMappingKeyNext
	return p.processEmptyScalar(p.s.peekToken().start)
}

func (p *parser) processEmptyScalar(m Mark) event {
	return event{kind: eScalar, implicit: [2]bool{true, false}, value: "", start: m, end: m}
}
