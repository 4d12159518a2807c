// Package schema loads and validates a plugin's schema.json with the rules
// of the Python dvp 5.0.1 (docs/compatibility.md, schema.json): Python json semantics
// (NaN and duplicate keys accepted, BOM refused), the six definitions, each
// a well-formed draft-07 schema, nameField/identityFields on the
// repository and source-config definitions and recordSizeInKB typed
// integer. The meta-validation runs the meta-schema dvp embeds
// (plugin_meta.schema.json) with github.com/santhosh-tekuri/jsonschema/v5
// and words its errors like dvp (package jsonschemamsg).
//
// Beyond dvp, it warns about mistakes dvp lets through (docs/validation.md
// lists them), and ValidateValue validates an instance against one
// definition with the Delphix formats and platform $refs resolved offline.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/pycompat"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// MaxFileSize is the largest schema.json accepted (4 MiB, the engine's
// limit for plugin messages; real schemas are a few KiB).
const MaxFileSize = 4 << 20

// The six definitions of a plugin schema, in the order dvp lists them.
var DefinitionNames = []string{
	"repositoryDefinition",
	"sourceConfigDefinition",
	"virtualSourceDefinition",
	"linkedSourceDefinition",
	"snapshotDefinition",
	"snapshotParametersDefinition",
}

// Schema is a loaded schema.json.
type Schema struct {
	Path string
	// Definitions holds the six top-level definitions that are present,
	// each as the exact bytes of the file.
	Definitions map[string]json.RawMessage
	// Doc is the whole document, numbers as json.Number (with the literal
	// text; NaN, Infinity and -Infinity as written). Nil when the root is
	// not an object.
	Doc map[string]any

	data  []byte
	lines *pyjson.LineIndex
	tree  *decoded

	mu       sync.Mutex
	compiled map[string]compiledDef
}

type compiledDef struct {
	schema *jsonschema.Schema
	err    error
	docs   map[string]any
	meter  *meter // bounds each validation's work (value.go)
}

// Position returns the 1-based line and column of the value at the JSON
// pointer (RFC 6901, "" for the root), or 0, 0 when there is no such value.
func (s *Schema) Position(pointer string) (line, col int) {
	if s == nil || s.tree == nil {
		return 0, 0
	}
	off, ok := s.tree.values[pointer]
	if !ok {
		return 0, 0
	}
	return s.lines.Pos(off)
}

// KeyPosition returns the 1-based line and column of the key of the object
// member at the pointer, or 0, 0.
func (s *Schema) KeyPosition(pointer string) (line, col int) {
	if s == nil || s.tree == nil {
		return 0, 0
	}
	off, ok := s.tree.keys[pointer]
	if !ok {
		return 0, 0
	}
	return s.lines.Pos(off)
}

// Load reads and validates the schema file at path (problems carry
// File=path). The Schema is nil only when the file cannot be read or is not
// JSON.
func Load(path string) (*Schema, diag.List) {
	data, ps := ReadFile(path)
	if ps != nil {
		return nil, ps
	}
	return Parse(path, data)
}

// ReadFile reads the schema file at path as Load does (up to one byte
// over MaxFileSize, which Parse refuses); the problems say why it cannot
// be read.
func ReadFile(path string) ([]byte, diag.List) {
	f, _, err := fsutil.OpenRegular(path)
	var nr *fsutil.NotRegularError
	switch {
	case errors.As(err, &nr) && nr.What == "a directory":
		return nil, diag.List{{File: path, Severity: diag.Error,
			Message: fmt.Sprintf("Unable to load schemas from '%s': it is a directory", path),
			Hint:    "schemaFile in plugin_config.yml must name the schema.json file"}}
	case errors.As(err, &nr):
		// A FIFO would wait for a writer, a device (/dev/zero) never end.
		return nil, diag.List{{File: path, Severity: diag.Error,
			Message: fmt.Sprintf("Unable to load schemas from '%s': it is %s, not a regular file", path, nr.What),
			Hint:    "schemaFile in plugin_config.yml must name the schema.json file, a regular file"}}
	case err != nil:
		return nil, diag.List{readProblem(path, err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, diag.List{readProblem(path, err)}
	}
	return data, nil
}

func readProblem(path string, err error) diag.Problem {
	return diag.Problem{File: path, Severity: diag.Error,
		Message: fmt.Sprintf("Unable to load schemas from '%s'. %s", path, pycompat.OSErrorText(err)),
		Hint:    "check schemaFile in plugin_config.yml and the file's permissions"}
}

// Parse is Load without reading the file.
func Parse(path string, data []byte) (*Schema, diag.List) { return parse(path, data, true) }

// ParseUnchecked is Parse without the checks against dvp's meta-schema and
// the warnings beyond it (the costly part: the meta-schema is compiled on
// first use): the same Schema, and only the problems of reading the JSON
// (syntax, duplicate keys, ...). Parse's problems are these and the
// checks'. dvp build uses it for a file whose bytes a build checked
// before.
func ParseUnchecked(path string, data []byte) (*Schema, diag.List) { return parse(path, data, false) }

func parse(path string, data []byte, check bool) (*Schema, diag.List) {
	if len(data) > MaxFileSize {
		return nil, diag.List{{File: path, Severity: diag.Error,
			Message: fmt.Sprintf("schema.json is %d bytes or more; files larger than %d bytes (4 MiB) are refused", len(data), MaxFileSize),
			Hint:    "check that schemaFile names the plugin's schema.json"}}
	}
	root, jerr := pyjson.Parse(data)
	li := pyjson.NewLineIndex(data)
	if jerr != nil {
		return nil, diag.List{syntaxProblem(path, data, li, jerr)}
	}
	s := &Schema{Path: path, data: data, lines: li}
	s.tree = decode(root)
	probs := s.tree.warnings(path, li)
	if obj, ok := s.tree.value.(map[string]any); ok {
		s.Doc = obj
		s.Definitions = map[string]json.RawMessage{}
		for _, name := range DefinitionNames {
			if n := s.tree.last[jsonpointer.Join(name)]; n != nil {
				s.Definitions[name] = json.RawMessage(data[n.Start:n.End])
			}
		}
	}
	if check {
		probs = append(probs, s.metaValidate()...)
		probs = append(probs, s.beyondDvp()...)
	}
	probs.Sort()
	return s, probs
}

func syntaxProblem(path string, data []byte, li *pyjson.LineIndex, e *pyjson.ParseError) diag.Problem {
	l, c := li.Pos(e.Off)
	detail := e.Msg
	if !isValueError(e.Msg) {
		detail = fmt.Sprintf("%s: line %d column %d (char %d)", e.Msg, l, c, li.Char(e.Off))
	}
	return diag.Problem{File: path, Line: l, Column: c, Severity: diag.Error,
		Message: fmt.Sprintf("Failed to load schemas because '%s' is not a valid json file. Error: %s", path, detail),
		Hint:    syntaxHint(e.Msg, atEnd(data, e.Off))}
}

// atEnd reports whether only white space follows off: the file ends
// where the JSON still needed something.
func atEnd(data []byte, off int) bool {
	return off >= 0 && off <= len(data) && len(bytes.TrimLeft(data[off:], " \t\r\n")) == 0
}

func isValueError(msg string) bool {
	return len(msg) > 8 && (msg[:8] == "Exceeds " || msg[:8] == "'utf-8' " || msg[:8] == "maximum ")
}

func syntaxHint(msg string, atEnd bool) string {
	switch {
	case atEnd && msg != "Extra data":
		return "schema.json ends before its JSON is complete (is it cut short?): close every string, [ and { that is open"
	case msg == "Unexpected UTF-8 BOM (decode using utf-8-sig)":
		return "save schema.json as UTF-8 without a byte order mark (BOM); dvp's json.load refuses it"
	case msg == "Expecting property name enclosed in double quotes":
		return "JSON keys need double quotes, and a comma may not follow the last member of an object"
	case msg == "Expecting value":
		return "a value is missing here (or there is a trailing comma, a comment, or a single-quoted string, which JSON does not allow)"
	case msg == "Expecting ',' delimiter":
		return "separate members and items with commas"
	case msg == "Expecting ':' delimiter":
		return "write \"key\": value"
	case msg == "Extra data":
		return "the file must hold a single JSON object; remove what follows it"
	case msg == "Invalid control character at":
		return "tabs and line breaks inside strings must be escaped (\\t, \\n)"
	case msg == "Unterminated string starting at":
		return "close the string with a double quote"
	case msg == "Invalid \\escape" || msg == "Invalid \\uXXXX escape":
		return "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\u followed by 4 hex digits"
	case len(msg) > 8 && msg[:8] == "'utf-8' ":
		return "save schema.json as UTF-8 text"
	case len(msg) > 8 && msg[:8] == "Exceeds ":
		return "dvp reads integers of at most 4300 digits; shorten the number"
	case len(msg) > 8 && msg[:8] == "maximum ":
		return "schema.json is nested too deeply; flatten it"
	}
	return "fix the JSON syntax at this position"
}
