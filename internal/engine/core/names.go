package core

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxObjectName is the longest name, in characters, a client gives an
// environment, a dSource, a VDB or a source config (a source config named
// by its parameters' name field or identity, a path perhaps, is not
// bounded so). A name is shown in lists and messages and travels in URLs
// (docs/engine.md, "Environments, dSources and VDBs").
const MaxObjectName = 256

// nameProblem says what is wrong with the name a client gives a new
// object, or "" when it is a good one: at most MaxObjectName characters,
// valid UTF-8, no control character (a newline or an escape sequence would
// rewrite the lines of a list or a log).
func nameProblem(name string) string {
	if !utf8.ValidString(name) {
		return "the name is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(name); n > MaxObjectName {
		return fmt.Sprintf("the name is %d characters long; a name has at most %d", n, MaxObjectName)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("the name holds the control character %U; a name has none", r)
		}
	}
	return ""
}

// checkName refuses the name a client gives a new object of the kind what
// ("dSource", "VDB", ...) when nameProblem finds one.
func checkName(what, name string) error {
	if p := nameProblem(name); p != "" {
		return badRequest(fmt.Sprintf("The %s cannot be named so: %s.", what, p), fmt.Sprintf("Give the %s a shorter name of printable characters.", what))
	}
	return nil
}
