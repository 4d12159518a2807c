package pyyaml

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner is a line-by-line port of PyYAML's scanner.py (MIT licence),
// kept structurally identical so that it accepts and rejects exactly what
// PyYAML 6 accepts and rejects, and reports the same error marks.

type tokenKind int

const (
	tStreamStart tokenKind = iota
	tStreamEnd
	tDirective
	tDocumentStart
	tDocumentEnd
	tBlockSequenceStart
	tBlockMappingStart
	tBlockEnd
	tFlowSequenceStart
	tFlowMappingStart
	tFlowSequenceEnd
	tFlowMappingEnd
	tKey
	tValue
	tBlockEntry
	tFlowEntry
	tAlias
	tAnchor
	tTag
	tScalar
)

// tokenIDs are PyYAML's Token.id strings, used in parser messages.
var tokenIDs = [...]string{
	tStreamStart:        "<stream start>",
	tStreamEnd:          "<stream end>",
	tDirective:          "<directive>",
	tDocumentStart:      "<document start>",
	tDocumentEnd:        "<document end>",
	tBlockSequenceStart: "<block sequence start>",
	tBlockMappingStart:  "<block mapping start>",
	tBlockEnd:           "<block end>",
	tFlowSequenceStart:  "[",
	tFlowMappingStart:   "{",
	tFlowSequenceEnd:    "]",
	tFlowMappingEnd:     "}",
	tKey:                "?",
	tValue:              ":",
	tBlockEntry:         "-",
	tFlowEntry:          ",",
	tAlias:              "<alias>",
	tAnchor:             "<anchor>",
	tTag:                "<tag>",
	tScalar:             "<scalar>",
}

type token struct {
	kind       tokenKind
	start, end Mark
	value      string // scalar text, alias/anchor name, directive name
	plain      bool   // scalar: plain style
	style      byte   // scalar: 0 (plain), '\'', '"', '|', '>'
	// tag tokens
	handle    string
	hasHandle bool
	suffix    string
	// directive tokens
	major, minor int
	tagDirHandle string
	tagDirPrefix string
}

type simpleKey struct {
	tokenNumber int
	required    bool
	index       int
	line        int
	column      int
	mark        Mark
}

type scanner struct {
	buf     []rune // the text followed by a NUL
	pointer int
	mark    Mark // index/line/column of buf[pointer]

	done               bool
	flowLevel          int
	tokens             []token
	tokensTaken        int
	indent             int
	indents            []int
	allowSimpleKey     bool
	possibleSimpleKeys map[int]*simpleKey
}

// scanError is raised (panicked) inside the scanner and parser and turned
// back into an *Error at the package boundary.
type scanError struct{ err *Error }

func newScanner(text []rune) *scanner {
	buf := make([]rune, len(text)+1)
	copy(buf, text)
	s := &scanner{
		buf:                buf,
		indent:             -1,
		allowSimpleKey:     true,
		possibleSimpleKeys: map[int]*simpleKey{},
	}
	s.fetchStreamStart()
	return s
}

func (s *scanner) fail(context string, contextMark *Mark, problem string, problemMark Mark) {
	panic(scanError{&Error{Kind: KindScanner, Context: context, ContextMark: contextMark, Problem: problem, ProblemMark: markPtr(problemMark)}})
}

// Reader primitives.

func (s *scanner) peek(i int) rune {
	if s.pointer+i < len(s.buf) {
		return s.buf[s.pointer+i]
	}
	return 0
}

func (s *scanner) prefix(n int) string {
	end := s.pointer + n
	if end > len(s.buf) {
		end = len(s.buf)
	}
	return string(s.buf[s.pointer:end])
}

func (s *scanner) forward(n int) {
	for ; n > 0 && s.pointer < len(s.buf)-1; n-- {
		s.mark = advance(s.mark, s.buf, s.pointer)
		s.pointer++
	}
}

func (s *scanner) getMark() Mark { return s.mark }

// in reports whether ch is in set; sets that list "\x00" match the NUL
// that ends the buffer, as in PyYAML.
func in(ch rune, set string) bool { return strings.ContainsRune(set, ch) }

const (
	breakz      = "\x00\r\n\u0085\u2028\u2029"
	blankz      = "\x00 \t\r\n\u0085\u2028\u2029"
	spaceBreakz = "\x00 \r\n\u0085\u2028\u2029"
	breaks      = "\r\n\u0085\u2028\u2029"
)

// Public methods.

func (s *scanner) checkToken(kinds ...tokenKind) bool {
	for s.needMoreTokens() {
		s.fetchMoreTokens()
	}
	if len(s.tokens) > 0 {
		if len(kinds) == 0 {
			return true
		}
		for _, k := range kinds {
			if s.tokens[0].kind == k {
				return true
			}
		}
	}
	return false
}

func (s *scanner) peekToken() *token {
	for s.needMoreTokens() {
		s.fetchMoreTokens()
	}
	if len(s.tokens) > 0 {
		return &s.tokens[0]
	}
	return nil
}

func (s *scanner) getToken() token {
	for s.needMoreTokens() {
		s.fetchMoreTokens()
	}
	if len(s.tokens) == 0 {
		// Cannot happen: the parser never reads past STREAM-END.
		panic(scanError{&Error{Kind: KindParser, Problem: "unexpected end of token stream", ProblemMark: markPtr(s.mark)}})
	}
	s.tokensTaken++
	t := s.tokens[0]
	s.tokens = s.tokens[1:]
	return t
}

func (s *scanner) needMoreTokens() bool {
	if s.done {
		return false
	}
	if len(s.tokens) == 0 {
		return true
	}
	s.staleSimpleKeys()
	n, ok := s.nextPossibleSimpleKey()
	return ok && n == s.tokensTaken
}

func (s *scanner) fetchMoreTokens() {
	s.scanToNextToken()
	s.staleSimpleKeys()
	s.unwindIndent(s.mark.Column)
	ch := s.peek(0)
	switch {
	case ch == 0:
		s.fetchStreamEnd()
		return
	case ch == '%' && s.checkDirective():
		s.fetchDirective()
		return
	case ch == '-' && s.checkDocumentStart():
		s.fetchDocumentIndicator(tDocumentStart)
		return
	case ch == '.' && s.checkDocumentEnd():
		s.fetchDocumentIndicator(tDocumentEnd)
		return
	case ch == '[':
		s.fetchFlowCollectionStart(tFlowSequenceStart)
		return
	case ch == '{':
		s.fetchFlowCollectionStart(tFlowMappingStart)
		return
	case ch == ']':
		s.fetchFlowCollectionEnd(tFlowSequenceEnd)
		return
	case ch == '}':
		s.fetchFlowCollectionEnd(tFlowMappingEnd)
		return
	case ch == ',':
		s.fetchFlowEntry()
		return
	case ch == '-' && s.checkBlockEntry():
		s.fetchBlockEntry()
		return
	case ch == '?' && s.checkKey():
		s.fetchKey()
		return
	case ch == ':' && s.checkValue():
		s.fetchValue()
		return
	case ch == '*':
		s.fetchAnchorOrAlias(tAlias)
		return
	case ch == '&':
		s.fetchAnchorOrAlias(tAnchor)
		return
	case ch == '!':
		s.fetchTag()
		return
	case ch == '|' && s.flowLevel == 0:
		s.fetchBlockScalar('|')
		return
	case ch == '>' && s.flowLevel == 0:
		s.fetchBlockScalar('>')
		return
	case ch == '\'':
		s.fetchFlowScalar('\'')
		return
	case ch == '"':
		s.fetchFlowScalar('"')
		return
	case s.checkPlain():
		s.fetchPlain()
		return
	}
	s.fail("while scanning for the next token", nil,
		fmt.Sprintf("found character %s that cannot start any token", pyReprRune(ch)), s.getMark())
}

// Simple keys.

func (s *scanner) nextPossibleSimpleKey() (int, bool) {
	min, found := 0, false
	for _, k := range s.possibleSimpleKeys {
		if !found || k.tokenNumber < min {
			min, found = k.tokenNumber, true
		}
	}
	return min, found
}

func (s *scanner) staleSimpleKeys() {
	for level, key := range s.possibleSimpleKeys {
		if key.line != s.mark.Line || s.mark.Index-key.index > 1024 {
			if key.required {
				m := key.mark
				s.fail("while scanning a simple key", &m, "could not find expected ':'", s.getMark())
			}
			delete(s.possibleSimpleKeys, level)
		}
	}
}

func (s *scanner) saveSimpleKey() {
	required := s.flowLevel == 0 && s.indent == s.mark.Column
	if s.allowSimpleKey {
		s.removeSimpleKey()
		s.possibleSimpleKeys[s.flowLevel] = &simpleKey{
			tokenNumber: s.tokensTaken + len(s.tokens),
			required:    required,
			index:       s.mark.Index,
			line:        s.mark.Line,
			column:      s.mark.Column,
			mark:        s.getMark(),
		}
	}
}

func (s *scanner) removeSimpleKey() {
	if key, ok := s.possibleSimpleKeys[s.flowLevel]; ok {
		if key.required {
			m := key.mark
			s.fail("while scanning a simple key", &m, "could not find expected ':'", s.getMark())
		}
		delete(s.possibleSimpleKeys, s.flowLevel)
	}
}

// Indentation.

func (s *scanner) unwindIndent(column int) {
	if s.flowLevel > 0 {
		return
	}
	for s.indent > column {
		m := s.getMark()
		s.indent = s.indents[len(s.indents)-1]
		s.indents = s.indents[:len(s.indents)-1]
		s.tokens = append(s.tokens, token{kind: tBlockEnd, start: m, end: m})
	}
}

func (s *scanner) addIndent(column int) bool {
	if s.indent < column {
		s.indents = append(s.indents, s.indent)
		s.indent = column
		return true
	}
	return false
}

// Fetchers.

func (s *scanner) fetchStreamStart() {
	m := s.getMark()
	s.tokens = append(s.tokens, token{kind: tStreamStart, start: m, end: m})
}

func (s *scanner) fetchStreamEnd() {
	s.unwindIndent(-1)
	s.removeSimpleKey()
	s.allowSimpleKey = false
	s.possibleSimpleKeys = map[int]*simpleKey{}
	m := s.getMark()
	s.tokens = append(s.tokens, token{kind: tStreamEnd, start: m, end: m})
	s.done = true
}

func (s *scanner) fetchDirective() {
	s.unwindIndent(-1)
	s.removeSimpleKey()
	s.allowSimpleKey = false
	s.tokens = append(s.tokens, s.scanDirective())
}

func (s *scanner) fetchDocumentIndicator(kind tokenKind) {
	s.unwindIndent(-1)
	s.removeSimpleKey()
	s.allowSimpleKey = false
	start := s.getMark()
	s.forward(3)
	s.tokens = append(s.tokens, token{kind: kind, start: start, end: s.getMark()})
}

func (s *scanner) fetchFlowCollectionStart(kind tokenKind) {
	s.saveSimpleKey()
	s.flowLevel++
	s.allowSimpleKey = true
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: kind, start: start, end: s.getMark()})
}

func (s *scanner) fetchFlowCollectionEnd(kind tokenKind) {
	s.removeSimpleKey()
	s.flowLevel--
	s.allowSimpleKey = false
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: kind, start: start, end: s.getMark()})
}

func (s *scanner) fetchFlowEntry() {
	s.allowSimpleKey = true
	s.removeSimpleKey()
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: tFlowEntry, start: start, end: s.getMark()})
}

func (s *scanner) fetchBlockEntry() {
	if s.flowLevel == 0 {
		if !s.allowSimpleKey {
			s.fail("", nil, "sequence entries are not allowed here", s.getMark())
		}
		if s.addIndent(s.mark.Column) {
			m := s.getMark()
			s.tokens = append(s.tokens, token{kind: tBlockSequenceStart, start: m, end: m})
		}
	}
	s.allowSimpleKey = true
	s.removeSimpleKey()
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: tBlockEntry, start: start, end: s.getMark()})
}

func (s *scanner) fetchKey() {
	if s.flowLevel == 0 {
		if !s.allowSimpleKey {
			s.fail("", nil, "mapping keys are not allowed here", s.getMark())
		}
		if s.addIndent(s.mark.Column) {
			m := s.getMark()
			s.tokens = append(s.tokens, token{kind: tBlockMappingStart, start: m, end: m})
		}
	}
	s.allowSimpleKey = s.flowLevel == 0
	s.removeSimpleKey()
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: tKey, start: start, end: s.getMark()})
}

func (s *scanner) insertToken(at int, t token) {
	s.tokens = append(s.tokens, token{})
	copy(s.tokens[at+1:], s.tokens[at:])
	s.tokens[at] = t
}

func (s *scanner) fetchValue() {
	if key, ok := s.possibleSimpleKeys[s.flowLevel]; ok {
		delete(s.possibleSimpleKeys, s.flowLevel)
		s.insertToken(key.tokenNumber-s.tokensTaken, token{kind: tKey, start: key.mark, end: key.mark})
		if s.flowLevel == 0 && s.addIndent(key.column) {
			s.insertToken(key.tokenNumber-s.tokensTaken, token{kind: tBlockMappingStart, start: key.mark, end: key.mark})
		}
		s.allowSimpleKey = false
	} else {
		if s.flowLevel == 0 {
			if !s.allowSimpleKey {
				s.fail("", nil, "mapping values are not allowed here", s.getMark())
			}
			if s.addIndent(s.mark.Column) {
				m := s.getMark()
				s.tokens = append(s.tokens, token{kind: tBlockMappingStart, start: m, end: m})
			}
		}
		s.allowSimpleKey = s.flowLevel == 0
		s.removeSimpleKey()
	}
	start := s.getMark()
	s.forward(1)
	s.tokens = append(s.tokens, token{kind: tValue, start: start, end: s.getMark()})
}

func (s *scanner) fetchAnchorOrAlias(kind tokenKind) {
	s.saveSimpleKey()
	s.allowSimpleKey = false
	s.tokens = append(s.tokens, s.scanAnchor(kind))
}

func (s *scanner) fetchTag() {
	s.saveSimpleKey()
	s.allowSimpleKey = false
	s.tokens = append(s.tokens, s.scanTag())
}

func (s *scanner) fetchBlockScalar(style byte) {
	s.allowSimpleKey = true
	s.removeSimpleKey()
	s.tokens = append(s.tokens, s.scanBlockScalar(style))
}

func (s *scanner) fetchFlowScalar(style byte) {
	s.saveSimpleKey()
	s.allowSimpleKey = false
	s.tokens = append(s.tokens, s.scanFlowScalar(style))
}

func (s *scanner) fetchPlain() {
	s.saveSimpleKey()
	s.allowSimpleKey = false
	s.tokens = append(s.tokens, s.scanPlain())
}

// Checkers.

func (s *scanner) checkDirective() bool { return s.mark.Column == 0 }

func (s *scanner) checkDocumentStart() bool {
	return s.mark.Column == 0 && s.prefix(3) == "---" && in(s.peek(3), blankz)
}

func (s *scanner) checkDocumentEnd() bool {
	return s.mark.Column == 0 && s.prefix(3) == "..." && in(s.peek(3), blankz)
}

func (s *scanner) checkBlockEntry() bool { return in(s.peek(1), blankz) }

func (s *scanner) checkKey() bool {
	if s.flowLevel > 0 {
		return true
	}
	return in(s.peek(1), blankz)
}

func (s *scanner) checkValue() bool {
	if s.flowLevel > 0 {
		return true
	}
	return in(s.peek(1), blankz)
}

func (s *scanner) checkPlain() bool {
	ch := s.peek(0)
	return !in(ch, "\x00 \t\r\n\u0085\u2028\u2029-?:,[]{}#&*!|>'\"%@`") ||
		(!in(s.peek(1), blankz) && (ch == '-' || (s.flowLevel == 0 && in(ch, "?:"))))
}

// Scanners.

func (s *scanner) scanToNextToken() {
	if s.mark.Index == 0 && s.peek(0) == 0xFEFF {
		s.forward(1)
	}
	for {
		for s.peek(0) == ' ' {
			s.forward(1)
		}
		if s.peek(0) == '#' {
			for !in(s.peek(0), breakz) {
				s.forward(1)
			}
		}
		if s.scanLineBreak() != "" {
			if s.flowLevel == 0 {
				s.allowSimpleKey = true
			}
		} else {
			return
		}
	}
}

func isAlnum(ch rune) bool {
	return ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch == '-' || ch == '_'
}

func (s *scanner) scanDirective() token {
	start := s.getMark()
	s.forward(1)
	name := s.scanDirectiveName(start)
	t := token{kind: tDirective, start: start, value: name}
	switch name {
	case "YAML":
		t.major, t.minor = s.scanYAMLDirectiveValue(start)
		t.end = s.getMark()
	case "TAG":
		t.tagDirHandle, t.tagDirPrefix = s.scanTagDirectiveValue(start)
		t.end = s.getMark()
	default:
		t.end = s.getMark()
		for !in(s.peek(0), breakz) {
			s.forward(1)
		}
	}
	s.scanDirectiveIgnoredLine(start)
	return t
}

func (s *scanner) scanDirectiveName(start Mark) string {
	length := 0
	ch := s.peek(length)
	for isAlnum(ch) {
		length++
		ch = s.peek(length)
	}
	if length == 0 {
		s.fail("while scanning a directive", &start, "expected alphabetic or numeric character, but found "+pyReprRune(ch), s.getMark())
	}
	value := s.prefix(length)
	s.forward(length)
	ch = s.peek(0)
	if !in(ch, spaceBreakz) {
		s.fail("while scanning a directive", &start, "expected alphabetic or numeric character, but found "+pyReprRune(ch), s.getMark())
	}
	return value
}

func (s *scanner) scanYAMLDirectiveValue(start Mark) (int, int) {
	for s.peek(0) == ' ' {
		s.forward(1)
	}
	major := s.scanYAMLDirectiveNumber(start)
	if s.peek(0) != '.' {
		s.fail("while scanning a directive", &start, "expected a digit or '.', but found "+pyReprRune(s.peek(0)), s.getMark())
	}
	s.forward(1)
	minor := s.scanYAMLDirectiveNumber(start)
	if !in(s.peek(0), spaceBreakz) {
		s.fail("while scanning a directive", &start, "expected a digit or ' ', but found "+pyReprRune(s.peek(0)), s.getMark())
	}
	return major, minor
}

func (s *scanner) scanYAMLDirectiveNumber(start Mark) int {
	ch := s.peek(0)
	if !(ch >= '0' && ch <= '9') {
		s.fail("while scanning a directive", &start, "expected a digit, but found "+pyReprRune(ch), s.getMark())
	}
	length := 0
	for c := s.peek(length); c >= '0' && c <= '9'; c = s.peek(length) {
		length++
	}
	digits := s.prefix(length)
	s.forward(length)
	v, err := strconv.Atoi(digits)
	if err != nil {
		v = -1 // absurdly long version numbers are incompatible anyway
	}
	return v
}

func (s *scanner) scanTagDirectiveValue(start Mark) (string, string) {
	for s.peek(0) == ' ' {
		s.forward(1)
	}
	handle := s.scanTagHandle("directive", start)
	if ch := s.peek(0); ch != ' ' {
		s.fail("while scanning a directive", &start, "expected ' ', but found "+pyReprRune(ch), s.getMark())
	}
	for s.peek(0) == ' ' {
		s.forward(1)
	}
	prefix := s.scanTagURI("directive", start)
	if ch := s.peek(0); !in(ch, spaceBreakz) {
		s.fail("while scanning a directive", &start, "expected ' ', but found "+pyReprRune(ch), s.getMark())
	}
	return handle, prefix
}

func (s *scanner) scanDirectiveIgnoredLine(start Mark) {
	for s.peek(0) == ' ' {
		s.forward(1)
	}
	if s.peek(0) == '#' {
		for !in(s.peek(0), breakz) {
			s.forward(1)
		}
	}
	if ch := s.peek(0); !in(ch, breakz) {
		s.fail("while scanning a directive", &start, "expected a comment or a line break, but found "+pyReprRune(ch), s.getMark())
	}
	s.scanLineBreak()
}

func (s *scanner) scanAnchor(kind tokenKind) token {
	start := s.getMark()
	name := "anchor"
	if s.peek(0) == '*' {
		name = "alias"
	}
	s.forward(1)
	length := 0
	ch := s.peek(length)
	for isAlnum(ch) {
		length++
		ch = s.peek(length)
	}
	if length == 0 {
		s.fail("while scanning an "+name, &start, "expected alphabetic or numeric character, but found "+pyReprRune(ch), s.getMark())
	}
	value := s.prefix(length)
	s.forward(length)
	ch = s.peek(0)
	if !in(ch, "\x00 \t\r\n\u0085\u2028\u2029?:,]}%@`") {
		s.fail("while scanning an "+name, &start, "expected alphabetic or numeric character, but found "+pyReprRune(ch), s.getMark())
	}
	return token{kind: kind, value: value, start: start, end: s.getMark()}
}

func (s *scanner) scanTag() token {
	start := s.getMark()
	ch := s.peek(1)
	var handle, suffix string
	hasHandle := false
	switch {
	case ch == '<':
		s.forward(2)
		suffix = s.scanTagURI("tag", start)
		if s.peek(0) != '>' {
			s.fail("while parsing a tag", &start, "expected '>', but found "+pyReprRune(s.peek(0)), s.getMark())
		}
		s.forward(1)
	case in(ch, blankz):
		suffix = "!"
		s.forward(1)
	default:
		length := 1
		useHandle := false
		for !in(ch, spaceBreakz) {
			if ch == '!' {
				useHandle = true
				break
			}
			length++
			ch = s.peek(length)
		}
		if useHandle {
			handle = s.scanTagHandle("tag", start)
		} else {
			handle = "!"
			s.forward(1)
		}
		hasHandle = true
		suffix = s.scanTagURI("tag", start)
	}
	if ch := s.peek(0); !in(ch, spaceBreakz) {
		s.fail("while scanning a tag", &start, "expected ' ', but found "+pyReprRune(ch), s.getMark())
	}
	return token{kind: tTag, handle: handle, hasHandle: hasHandle, suffix: suffix, start: start, end: s.getMark()}
}

func (s *scanner) scanBlockScalar(style byte) token {
	folded := style == '>'
	var chunks strings.Builder
	start := s.getMark()
	s.forward(1)
	chomping, increment := s.scanBlockScalarIndicators(start)
	s.scanBlockScalarIgnoredLine(start)

	minIndent := s.indent + 1
	if minIndent < 1 {
		minIndent = 1
	}
	var brks []string
	var end Mark
	var indent int
	if increment == 0 {
		var maxIndent int
		brks, maxIndent, end = s.scanBlockScalarIndentation()
		indent = minIndent
		if maxIndent > indent {
			indent = maxIndent
		}
	} else {
		indent = minIndent + increment - 1
		brks, end = s.scanBlockScalarBreaks(indent)
	}
	lineBreak := ""

	for s.mark.Column == indent && s.peek(0) != 0 {
		for _, b := range brks {
			chunks.WriteString(b)
		}
		leadingNonSpace := !in(s.peek(0), " \t")
		length := 0
		for !in(s.peek(length), breakz) {
			length++
		}
		chunks.WriteString(s.prefix(length))
		s.forward(length)
		lineBreak = s.scanLineBreak()
		brks, end = s.scanBlockScalarBreaks(indent)
		if s.mark.Column == indent && s.peek(0) != 0 {
			if folded && lineBreak == "\n" && leadingNonSpace && !in(s.peek(0), " \t") {
				if len(brks) == 0 {
					chunks.WriteByte(' ')
				}
			} else {
				chunks.WriteString(lineBreak)
			}
		} else {
			break
		}
	}
	if chomping != chompStrip {
		chunks.WriteString(lineBreak)
	}
	if chomping == chompKeep {
		for _, b := range brks {
			chunks.WriteString(b)
		}
	}
	return token{kind: tScalar, value: chunks.String(), plain: false, style: style, start: start, end: end}
}

const (
	chompClip = iota
	chompKeep
	chompStrip
)

func (s *scanner) scanBlockScalarIndicators(start Mark) (int, int) {
	chomping, increment := chompClip, 0
	ch := s.peek(0)
	if ch == '+' || ch == '-' {
		if ch == '+' {
			chomping = chompKeep
		} else {
			chomping = chompStrip
		}
		s.forward(1)
		ch = s.peek(0)
		if ch >= '0' && ch <= '9' {
			increment = int(ch - '0')
			if increment == 0 {
				s.fail("while scanning a block scalar", &start, "expected indentation indicator in the range 1-9, but found 0", s.getMark())
			}
			s.forward(1)
		}
	} else if ch >= '0' && ch <= '9' {
		increment = int(ch - '0')
		if increment == 0 {
			s.fail("while scanning a block scalar", &start, "expected indentation indicator in the range 1-9, but found 0", s.getMark())
		}
		s.forward(1)
		ch = s.peek(0)
		if ch == '+' || ch == '-' {
			if ch == '+' {
				chomping = chompKeep
			} else {
				chomping = chompStrip
			}
			s.forward(1)
		}
	}
	if ch := s.peek(0); !in(ch, spaceBreakz) {
		s.fail("while scanning a block scalar", &start, "expected chomping or indentation indicators, but found "+pyReprRune(ch), s.getMark())
	}
	return chomping, increment
}

func (s *scanner) scanBlockScalarIgnoredLine(start Mark) {
	for s.peek(0) == ' ' {
		s.forward(1)
	}
	if s.peek(0) == '#' {
		for !in(s.peek(0), breakz) {
			s.forward(1)
		}
	}
	if ch := s.peek(0); !in(ch, breakz) {
		s.fail("while scanning a block scalar", &start, "expected a comment or a line break, but found "+pyReprRune(ch), s.getMark())
	}
	s.scanLineBreak()
}

func (s *scanner) scanBlockScalarIndentation() ([]string, int, Mark) {
	var chunks []string
	maxIndent := 0
	end := s.getMark()
	for in(s.peek(0), " \r\n\u0085\u2028\u2029") && s.peek(0) != 0 {
		if s.peek(0) != ' ' {
			chunks = append(chunks, s.scanLineBreak())
			end = s.getMark()
		} else {
			s.forward(1)
			if s.mark.Column > maxIndent {
				maxIndent = s.mark.Column
			}
		}
	}
	return chunks, maxIndent, end
}

func (s *scanner) scanBlockScalarBreaks(indent int) ([]string, Mark) {
	var chunks []string
	end := s.getMark()
	for s.mark.Column < indent && s.peek(0) == ' ' {
		s.forward(1)
	}
	for in(s.peek(0), breaks) && s.peek(0) != 0 {
		chunks = append(chunks, s.scanLineBreak())
		end = s.getMark()
		for s.mark.Column < indent && s.peek(0) == ' ' {
			s.forward(1)
		}
	}
	return chunks, end
}

func (s *scanner) scanFlowScalar(style byte) token {
	double := style == '"'
	var chunks strings.Builder
	start := s.getMark()
	quote := s.peek(0)
	s.forward(1)
	s.scanFlowScalarNonSpaces(&chunks, double, start)
	for s.peek(0) != quote {
		s.scanFlowScalarSpaces(&chunks, double, start)
		s.scanFlowScalarNonSpaces(&chunks, double, start)
	}
	s.forward(1)
	return token{kind: tScalar, value: chunks.String(), plain: false, style: style, start: start, end: s.getMark()}
}

var escapeReplacements = map[rune]string{
	'0':  "\x00",
	'a':  "\x07",
	'b':  "\x08",
	't':  "\x09",
	'\t': "\x09",
	'n':  "\x0A",
	'v':  "\x0B",
	'f':  "\x0C",
	'r':  "\x0D",
	'e':  "\x1B",
	' ':  "\x20",
	'"':  "\"",
	'\\': "\\",
	'/':  "/",
	'N':  "\u0085",
	'_':  "\u00A0",
	'L':  "\u2028",
	'P':  "\u2029",
}

var escapeCodes = map[rune]int{'x': 2, 'u': 4, 'U': 8}

func isHex(ch rune) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}

func (s *scanner) scanFlowScalarNonSpaces(chunks *strings.Builder, double bool, start Mark) {
	for {
		length := 0
		for !in(s.peek(length), "'\"\\\x00 \t\r\n\u0085\u2028\u2029") {
			length++
		}
		if length > 0 {
			chunks.WriteString(s.prefix(length))
			s.forward(length)
		}
		ch := s.peek(0)
		switch {
		case !double && ch == '\'' && s.peek(1) == '\'':
			chunks.WriteByte('\'')
			s.forward(2)
		case (double && ch == '\'') || (!double && (ch == '"' || ch == '\\')):
			chunks.WriteRune(ch)
			s.forward(1)
		case double && ch == '\\':
			s.forward(1)
			ch = s.peek(0)
			if rep, ok := escapeReplacements[ch]; ok {
				chunks.WriteString(rep)
				s.forward(1)
			} else if n, ok := escapeCodes[ch]; ok {
				s.forward(1)
				for k := 0; k < n; k++ {
					if !isHex(s.peek(k)) {
						s.fail("while scanning a double-quoted scalar", &start,
							fmt.Sprintf("expected escape sequence of %d hexadecimal numbers, but found %s", n, pyReprRune(s.peek(k))), s.getMark())
					}
				}
				code, _ := strconv.ParseUint(s.prefix(n), 16, 32)
				if code > 0x10FFFF {
					// Python's chr() raises ValueError here; PyYAML lets it
					// escape as a crash. Report it as a scanner problem.
					s.fail("while scanning a double-quoted scalar", &start,
						fmt.Sprintf("escape sequence \\%c%s is not a valid Unicode code point", ch, s.prefix(n)), s.getMark())
				}
				r := rune(code)
				if !utf8.ValidRune(r) {
					r = utf8.RuneError // a lone surrogate has no UTF-8 form
				}
				chunks.WriteRune(r)
				s.forward(n)
			} else if in(ch, breaks) && ch != 0 {
				s.scanLineBreak()
				s.scanFlowScalarBreaks(chunks, double, start)
			} else {
				s.fail("while scanning a double-quoted scalar", &start, "found unknown escape character "+pyReprRune(ch), s.getMark())
			}
		default:
			return
		}
	}
}

func (s *scanner) scanFlowScalarSpaces(chunks *strings.Builder, double bool, start Mark) {
	length := 0
	for in(s.peek(length), " \t") && s.peek(length) != 0 {
		length++
	}
	whitespaces := s.prefix(length)
	s.forward(length)
	ch := s.peek(0)
	switch {
	case ch == 0:
		s.fail("while scanning a quoted scalar", &start, "found unexpected end of stream", s.getMark())
	case in(ch, breaks):
		lineBreak := s.scanLineBreak()
		var brks strings.Builder
		s.scanFlowScalarBreaks(&brks, double, start)
		if lineBreak != "\n" {
			chunks.WriteString(lineBreak)
		} else if brks.Len() == 0 {
			chunks.WriteByte(' ')
		}
		chunks.WriteString(brks.String())
	default:
		chunks.WriteString(whitespaces)
	}
}

func (s *scanner) scanFlowScalarBreaks(chunks *strings.Builder, double bool, start Mark) {
	for {
		p := s.prefix(3)
		if (p == "---" || p == "...") && in(s.peek(3), blankz) {
			s.fail("while scanning a quoted scalar", &start, "found unexpected document separator", s.getMark())
		}
		for in(s.peek(0), " \t") && s.peek(0) != 0 {
			s.forward(1)
		}
		if in(s.peek(0), breaks) && s.peek(0) != 0 {
			chunks.WriteString(s.scanLineBreak())
		} else {
			return
		}
	}
}

func (s *scanner) scanPlain() token {
	var chunks strings.Builder
	start := s.getMark()
	end := start
	indent := s.indent + 1
	var spaces []string
	for {
		length := 0
		if s.peek(0) == '#' {
			break
		}
		for {
			ch := s.peek(length)
			if in(ch, blankz) ||
				(ch == ':' && (in(s.peek(length+1), blankz) || (s.flowLevel > 0 && in(s.peek(length+1), ",[]{}")))) ||
				(s.flowLevel > 0 && in(ch, ",?[]{}")) {
				break
			}
			length++
		}
		if length == 0 {
			break
		}
		s.allowSimpleKey = false
		for _, sp := range spaces {
			chunks.WriteString(sp)
		}
		chunks.WriteString(s.prefix(length))
		s.forward(length)
		end = s.getMark()
		var ok bool
		spaces, ok = s.scanPlainSpaces(indent, start)
		if !ok || len(spaces) == 0 || s.peek(0) == '#' || (s.flowLevel == 0 && s.mark.Column < indent) {
			break
		}
	}
	return token{kind: tScalar, value: chunks.String(), plain: true, start: start, end: end}
}

// scanPlainSpaces returns ok=false where PyYAML returns None (a document
// separator follows), which ends the scalar like an empty result does.
func (s *scanner) scanPlainSpaces(indent int, start Mark) ([]string, bool) {
	var chunks []string
	length := 0
	for s.peek(length) == ' ' {
		length++
	}
	whitespaces := s.prefix(length)
	s.forward(length)
	ch := s.peek(0)
	if in(ch, breaks) && ch != 0 {
		lineBreak := s.scanLineBreak()
		s.allowSimpleKey = true
		p := s.prefix(3)
		if (p == "---" || p == "...") && in(s.peek(3), blankz) {
			return nil, false
		}
		var brks []string
		for in(s.peek(0), " \r\n\u0085\u2028\u2029") && s.peek(0) != 0 {
			if s.peek(0) == ' ' {
				s.forward(1)
			} else {
				brks = append(brks, s.scanLineBreak())
				p := s.prefix(3)
				if (p == "---" || p == "...") && in(s.peek(3), blankz) {
					return nil, false
				}
			}
		}
		if lineBreak != "\n" {
			chunks = append(chunks, lineBreak)
		} else if len(brks) == 0 {
			chunks = append(chunks, " ")
		}
		chunks = append(chunks, brks...)
	} else if whitespaces != "" {
		chunks = append(chunks, whitespaces)
	}
	return chunks, true
}

func (s *scanner) scanTagHandle(name string, start Mark) string {
	ch := s.peek(0)
	if ch != '!' {
		s.fail("while scanning a "+name, &start, "expected '!', but found "+pyReprRune(ch), s.getMark())
	}
	length := 1
	ch = s.peek(length)
	if ch != ' ' {
		for isAlnum(ch) {
			length++
			ch = s.peek(length)
		}
		if ch != '!' {
			s.forward(length)
			s.fail("while scanning a "+name, &start, "expected '!', but found "+pyReprRune(ch), s.getMark())
		}
		length++
	}
	value := s.prefix(length)
	s.forward(length)
	return value
}

func (s *scanner) scanTagURI(name string, start Mark) string {
	var chunks strings.Builder
	length := 0
	ch := s.peek(length)
	for ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || (ch != 0 && in(ch, "-;/?:@&=+$,_.!~*'()[]%")) {
		if ch == '%' {
			chunks.WriteString(s.prefix(length))
			s.forward(length)
			length = 0
			chunks.WriteString(s.scanURIEscapes(name, start))
		} else {
			length++
		}
		ch = s.peek(length)
	}
	if length > 0 {
		chunks.WriteString(s.prefix(length))
		s.forward(length)
	}
	if chunks.Len() == 0 {
		s.fail("while parsing a "+name, &start, "expected URI, but found "+pyReprRune(ch), s.getMark())
	}
	return chunks.String()
}

func (s *scanner) scanURIEscapes(name string, start Mark) string {
	var codes []byte
	m := s.getMark()
	for s.peek(0) == '%' {
		s.forward(1)
		for k := 0; k < 2; k++ {
			if !isHex(s.peek(k)) {
				s.fail("while scanning a "+name, &start,
					"expected URI escape sequence of 2 hexadecimal numbers, but found "+pyReprRune(s.peek(k)), s.getMark())
			}
		}
		v, _ := strconv.ParseUint(s.prefix(2), 16, 8)
		codes = append(codes, byte(v))
		s.forward(2)
	}
	if !utf8.Valid(codes) {
		s.fail("while scanning a "+name, &start, "'utf-8' codec can't decode the URI escape sequence", m)
	}
	return string(codes)
}

func (s *scanner) scanLineBreak() string {
	ch := s.peek(0)
	switch ch {
	case '\r', '\n', 0x85:
		if s.prefix(2) == "\r\n" {
			s.forward(2)
		} else {
			s.forward(1)
		}
		return "\n"
	case 0x2028, 0x2029:
		s.forward(1)
		return string(ch)
	}
	return ""
}
