package pyyaml

import (
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/pycompat"
)

// Mark is a position in the decoded input. All fields are 0-based; Index
// counts characters (code points), as PyYAML does.
type Mark struct {
	Index, Line, Column int
}

// Pos returns the 1-based line and column of the mark.
func (m Mark) Pos() (line, col int) { return m.Line + 1, m.Column + 1 }

func (m Mark) String() string { return fmt.Sprintf("line %d, column %d", m.Line+1, m.Column+1) }

// Error kinds, named after the PyYAML stage that raises them.
const (
	KindReader   = "reader"
	KindScanner  = "scanner"
	KindParser   = "parser"
	KindComposer = "composer"
	KindLimit    = "limit"
)

// Error is a YAML error with PyYAML's context/problem structure. ProblemMark is
// always set for errors this package returns (reader errors included).
type Error struct {
	Kind        string
	Context     string
	ContextMark *Mark
	Problem     string
	ProblemMark *Mark
}

func (e *Error) Error() string {
	var parts []string
	if e.Context != "" {
		c := e.Context
		if e.ContextMark != nil && (e.ProblemMark == nil || *e.ContextMark != *e.ProblemMark) {
			c += " at " + e.ContextMark.String()
		}
		parts = append(parts, c)
	}
	p := e.Problem
	if e.ProblemMark != nil {
		p += " at " + e.ProblemMark.String()
	}
	parts = append(parts, p)
	return strings.Join(parts, ": ")
}

func markPtr(m Mark) *Mark { return &m }

// pyReprString and pyReprRune render text the way Python's repr() does, so
// messages match PyYAML's wording ("found character '\t' that ...").
func pyReprString(s string) string { return pycompat.ReprString(s) }

func pyReprRune(r rune) string { return pycompat.ReprString(string(r)) }
