// Package pyyaml reads YAML the way PyYAML 6's safe_load does (YAML 1.1),
// which is what the Python dvp tool uses for plugin_config.yml, and
// returns the document as a gopkg.in/yaml.v3 *yaml.Node tree.
//
// Why not yaml.v3's own parser: it reports no column and, for many errors,
// a line that is off by one or missing, and its verdicts differ from
// PyYAML's in places (tab handling, content after the first document).
// This package is a structural port of PyYAML's reader, scanner, parser and
// composer so that it accepts and rejects the same inputs and
// reports PyYAML's error marks (1-based line:column via Mark.Pos). Tags of
// plain scalars are resolved with PyYAML's YAML 1.1 implicit resolvers
// (yes/no/on/off booleans, 0x/0b/octal/sexagesimal ints, floats that need
// a dot, timestamps, ~ and empty nulls); quoted scalars are strings.
//
// Construct converts the node tree into the JSON-like value dvp validates
// (safe_load followed by a JSON round trip), with positions, and with
// limits on nesting and alias expansion so hostile input stays cheap.
//
// PyYAML is MIT-licensed (Copyright (c) 2017-2021 Ingy döt Net, Copyright
// (c) 2006-2016 Kirill Simonov); as a port of it, this package carries its
// licence notice in the file LICENSE beside this one, which must be kept
// with any copy of the package.
package pyyaml

import (
	"gopkg.in/yaml.v3"
)

// DefaultMaxDepth bounds collection nesting. PyYAML itself has no limit but
// Python's recursion limit makes dvp crash well before this depth.
const DefaultMaxDepth = 1000

// Options tune Parse.
type Options struct {
	// MaxDepth is the deepest collection nesting accepted; 0 means
	// DefaultMaxDepth.
	MaxDepth int
}

// Parse reads exactly one YAML document, as yaml.safe_load does. It returns
// a DocumentNode whose only child is the root node, or nil for a stream
// with no document (an empty file or only comments). Any syntax error is
// returned as an *Error with PyYAML's message and mark.
func Parse(data []byte, opt Options) (doc *yaml.Node, err *Error) {
	text, rerr := decode(data)
	if rerr != nil {
		return nil, rerr
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(scanError)
			if !ok {
				panic(r)
			}
			doc, err = nil, se.err
		}
	}()
	s := newScanner(text)
	p := newParser(s, opt.MaxDepth)
	c := &composer{p: p, anchors: map[string]*yaml.Node{}, marks: map[*yaml.Node]Mark{}}
	return c.getSingleNode(), nil
}
