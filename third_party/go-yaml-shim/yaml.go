// Package yaml is dvp's stand-in for go.yaml.in/yaml/v3: the same API,
// forwarded to gopkg.in/yaml.v3, which dvp links anyway (PATCH.md says why).
package yaml

import (
	"io"

	yaml "gopkg.in/yaml.v3"
)

// The types of gopkg.in/yaml.v3, under their names in go.yaml.in/yaml/v3.
type (
	Decoder     = yaml.Decoder
	Encoder     = yaml.Encoder
	Node        = yaml.Node
	Kind        = yaml.Kind
	Style       = yaml.Style
	Marshaler   = yaml.Marshaler
	Unmarshaler = yaml.Unmarshaler
	IsZeroer    = yaml.IsZeroer
	TypeError   = yaml.TypeError
)

// The node kinds and styles of gopkg.in/yaml.v3.
const (
	DocumentNode = yaml.DocumentNode
	SequenceNode = yaml.SequenceNode
	MappingNode  = yaml.MappingNode
	ScalarNode   = yaml.ScalarNode
	AliasNode    = yaml.AliasNode

	TaggedStyle       = yaml.TaggedStyle
	DoubleQuotedStyle = yaml.DoubleQuotedStyle
	SingleQuotedStyle = yaml.SingleQuotedStyle
	LiteralStyle      = yaml.LiteralStyle
	FoldedStyle       = yaml.FoldedStyle
	FlowStyle         = yaml.FlowStyle
)

// Marshal is gopkg.in/yaml.v3's Marshal.
func Marshal(in any) ([]byte, error) { return yaml.Marshal(in) }

// Unmarshal is gopkg.in/yaml.v3's Unmarshal.
func Unmarshal(in []byte, out any) error { return yaml.Unmarshal(in, out) }

// NewDecoder is gopkg.in/yaml.v3's NewDecoder.
func NewDecoder(r io.Reader) *Decoder { return yaml.NewDecoder(r) }

// NewEncoder is gopkg.in/yaml.v3's NewEncoder.
func NewEncoder(w io.Writer) *Encoder { return yaml.NewEncoder(w) }
