// Package diag holds the problem type that every validator reports, so that
// the CLI can print all problems of a project at once, in one format.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a problem stops the command (error) or not (warning).
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one thing wrong with one input: a file of the project (File,
// Line, Column) or a document such as an uploaded artifact (Pointer
// alone).
type Problem struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`              // 1-based; 0 when unknown
	Column   int      `json:"column"`            // 1-based; 0 when unknown
	Pointer  string   `json:"pointer,omitempty"` // RFC 6901 JSON pointer of the offending value
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"` // how to fix it
	// Rank orders problems at the same position before their messages do:
	// the producer's own order where it means something (dvp's order of
	// the missing required operations, docs/compatibility.md). 0 for none.
	Rank int `json:"-"`
}

// String renders the problem as FILE:LINE:COL: message, the pointer in
// brackets when there is one, and the hint on an indented second line.
func (p Problem) String() string {
	var b strings.Builder
	if loc := p.Location(); loc != "" {
		// A problem of no file (no Go toolchain) has no location.
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	if p.Pointer != "" {
		fmt.Fprintf(&b, " [at %s]", p.Pointer)
	}
	if p.Hint != "" {
		b.WriteString("\n    hint: ")
		b.WriteString(p.Hint)
	}
	return b.String()
}

// Location is FILE, FILE:LINE or FILE:LINE:COL, whatever is known.
func (p Problem) Location() string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return p.File
	}
}

// Short renders a problem without its file position, as
// [warning: ][POINTER: ]message: the form of the problems of one document,
// such as an uploaded artifact.
func (p Problem) Short() string {
	if p.Severity == Warning {
		return "warning: " + p.Detail()
	}
	return p.Detail()
}

// Detail renders a problem as [POINTER: ]message, without its position or
// severity: for a caller that says the severity its own way.
func (p Problem) Detail() string {
	if p.Pointer != "" {
		return p.Pointer + ": " + p.Message
	}
	return p.Message
}

// List is an ordered collection of problems.
type List []Problem

// Errors returns the problems that are errors.
func (l List) Errors() List { return l.filter(Error) }

// Warnings returns the problems that are warnings.
func (l List) Warnings() List { return l.filter(Warning) }

func (l List) filter(s Severity) List {
	var out List
	for _, p := range l {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// String lists the problems one per line, each as "- " and its Short form.
func (l List) String() string {
	lines := make([]string, len(l))
	for i, p := range l {
		lines[i] = "- " + p.Short()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is an error.
func (l List) HasErrors() bool { return l.Count(Error) > 0 }

// Count returns how many problems have the given severity.
func (l List) Count(s Severity) int {
	n := 0
	for _, p := range l {
		if p.Severity == s {
			n++
		}
	}
	return n
}

// Sort orders problems by file, line, column, rank, then message, so output
// is stable.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rank != b.Rank {
			return a.Rank < b.Rank
		}
		return a.Message < b.Message
	})
}

// Summary is the one-line count, e.g. "2 errors, 1 warning".
func (l List) Summary() string {
	return fmt.Sprintf("%s, %s", plural(l.Count(Error), "error"), plural(l.Count(Warning), "warning"))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Errorf builds an error problem.
func Errorf(file string, line, col int, format string, args ...any) Problem {
	return Problem{File: file, Line: line, Column: col, Severity: Error, Message: fmt.Sprintf(format, args...)}
}

// Warningf builds a warning problem.
func Warningf(file string, line, col int, format string, args ...any) Problem {
	return Problem{File: file, Line: line, Column: col, Severity: Warning, Message: fmt.Sprintf(format, args...)}
}
