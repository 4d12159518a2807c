// Package config loads and validates plugin_config.yml with the rules of
// the Python dvp 5.0.1 (docs/compatibility.md, plugin_config.yml), for
// plugins written in Go.
//
// The file is read as YAML 1.1 exactly as PyYAML reads it (package pycompat/pyyaml),
// converted to the JSON value dvp validates, checked against an embedded
// draft-07 JSON Schema (plugin_config.schema.json) and then by the rules
// JSON Schema cannot express (Lua key pairing, srcDir and schemaFile
// paths). Every problem is reported, each with file, line, column, JSON
// pointer and a hint; messages use the Python tool's wording where it has
// one (see docs/validation.md).
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/pycompat"
	"github.com/dvpkit/dvp/internal/pycompat/pyyaml"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// MaxFileSize is the largest plugin_config.yml Load accepts. Real files are
// well under 1 KiB; the cap keeps hostile input cheap.
const MaxFileSize = 1 << 20

// MaxValues bounds the values a config may expand to (aliases included).
const MaxValues = 10000

// Defaults used by build when a key is absent (docs/validation.md, plugin_config.yml).
const (
	DefaultManualDiscovery        = true
	DefaultRootSquashEnabled      = true
	DefaultLocale                 = "en-us"
	DefaultExtendedStartStopHooks = false
)

// Config is a plugin_config.yml. Fields hold the values that had the right
// type; the others keep their zero value or default.
type Config struct {
	Path string // as given
	Dir  string // absolute directory of the config file (plugin root)

	ID, Name, ExternalVersion string
	HostTypes                 []string
	EntryPoint                string
	SrcDir, SchemaFile        string // as written
	// SrcPath and SchemaPath are the resolved absolute paths
	// (docs/validation.md, plugin_config.yml); "" when they do not resolve
	// (a problem is reported).
	SrcPath, SchemaPath string
	ManualDiscovery     bool // default true
	PluginType          string
	Language            string
	RootSquashEnabled   bool   // default true
	DefaultLocale       string // default "en-us"
	BuildNumber         string // as written
	LuaName             string
	MinimumLuaVersion   string
	// ExtendedStartStopHooks defaults to false.
	ExtendedStartStopHooks bool

	// Present records which keys the file sets (with a value of any type).
	Present map[string]bool

	doc *pyyaml.Doc
}

// Position returns the 1-based line and column of the value of a top-level
// key, or 0, 0 when the key is absent.
func (c *Config) Position(key string) (line, col int) {
	if c == nil || c.doc == nil {
		return 0, 0
	}
	if n := c.doc.Values[jsonpointer.Join(key)]; n != nil {
		return n.Line, n.Column
	}
	return 0, 0
}

// KeyPosition returns the 1-based line and column of a top-level key
// itself, or 0, 0 when the key is absent.
func (c *Config) KeyPosition(key string) (line, col int) {
	if c == nil || c.doc == nil {
		return 0, 0
	}
	if n := c.doc.Keys[jsonpointer.Join(key)]; n != nil {
		return n.Line, n.Column
	}
	return 0, 0
}

// EntryModule is the part of entryPoint before the colon.
func (c *Config) EntryModule() string {
	m, _, _ := strings.Cut(c.EntryPoint, ":")
	return m
}

// EntrySymbol is the part of entryPoint after the colon (up to a second
// colon, as dvp's split(':')[1]).
func (c *Config) EntrySymbol() string {
	_, rest, _ := strings.Cut(c.EntryPoint, ":")
	s, _, _ := strings.Cut(rest, ":")
	return s
}

// NormalizedBuildNumber is NormalizeBuildNumber(c.BuildNumber).
func (c *Config) NormalizedBuildNumber() string { return NormalizeBuildNumber(c.BuildNumber) }

// NormalizeBuildNumber is the build number as the artifact records it:
// protocol.CanonicalBuildNumber (each part without leading zeros, trailing
// zero parts dropped: 0.1.0 -> 0.1, 02.5000 -> 2.5000, 2.0.0 -> 2,
// 1.0.01.0 -> 1.0.1). A value that is not a valid build number is returned
// unchanged. One final newline is ignored, as dvp 5.0.1 does (see
// docs/compatibility.md, build numbers).
func NormalizeBuildNumber(s string) string {
	if c, ok := protocol.CanonicalBuildNumber(strings.TrimSuffix(s, "\n")); ok {
		return c
	}
	return s
}

// Load reads and validates the plugin config at path (as the user gave it;
// problems carry File=path). cfg is nil only when the file cannot be read
// (or is refused: over MaxFileSize, an alias bomb) or is not a YAML mapping
// at all; otherwise cfg holds every value that had the right type, so
// warning-mode callers can go on.
func Load(path string) (*Config, diag.List) { return load(path, checkAll) }

// LoadSettings is Load without the checks of schemaFile and srcDir on
// disk: what dvp download-logs reads, as dvp's does, for the plugin's id
// and name (docs/compatibility.md, plugin_config.yml). SchemaPath and
// SrcPath are left empty.
func LoadSettings(path string) (*Config, diag.List) { return load(path, checkSchema) }

// The checks parse runs besides reading the YAML and the Lua keys' pairing.
type checks int

const (
	checkSchema checks = 1 << iota // plugin_config.yml's schema
	checkPaths                     // schemaFile and srcDir on disk
	checkAll    = checkSchema | checkPaths
)

// Peek is Load without the check against plugin_config.yml's schema, the
// costly part of Load (the schema is compiled on first use), and without
// its problems: for work that needs only values such as srcDir and that a
// valid config would do anyway, started while Load checks everything (dvp
// build starts go build with it). The values are those Load gives, for a
// config Load may yet refuse; nil where Load's would be nil.
func Peek(path string) *Config {
	cfg, _ := load(path, checkPaths)
	return cfg
}

func load(path string, c checks) (*Config, diag.List) {
	data, ps := ReadFile(path)
	if ps != nil {
		return nil, ps
	}
	return parse(path, data, c)
}

// ReadFile reads the plugin config at path as Load does; the problems say
// why it cannot be read or is refused (a directory, a FIFO or a device,
// over MaxFileSize).
func ReadFile(path string) ([]byte, diag.List) {
	f, st, err := fsutil.OpenRegular(path)
	var nr *fsutil.NotRegularError
	switch {
	case errors.As(err, &nr) && nr.What == "a directory":
		return nil, diag.List{{File: path, Severity: diag.Error,
			Message: fmt.Sprintf("Unable to read plugin config file '%s': it is a directory", path),
			Hint:    "pass the path of plugin_config.yml, not of its directory"}}
	case errors.As(err, &nr):
		// A FIFO would wait for a writer, a device (/dev/zero) never end.
		return nil, diag.List{{File: path, Severity: diag.Error,
			Message: fmt.Sprintf("Unable to read plugin config file '%s': it is %s, not a regular file", path, nr.What),
			Hint:    "pass the path of the plugin's plugin_config.yml, a regular file"}}
	case err != nil:
		return nil, diag.List{readProblem(path, err)}
	}
	defer f.Close()
	if st.Size() > MaxFileSize {
		return nil, diag.List{tooBig(path, st.Size())}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, diag.List{readProblem(path, err)}
	}
	if len(data) > MaxFileSize {
		return nil, diag.List{tooBig(path, int64(len(data)))}
	}
	return data, nil
}

func tooBig(path string, size int64) diag.Problem {
	return diag.Problem{File: path, Severity: diag.Error,
		Message: fmt.Sprintf("the plugin config file is %d bytes; plugin_config.yml files larger than %d bytes (1 MiB) are refused", size, MaxFileSize),
		Hint:    "check that the path names the plugin's plugin_config.yml"}
}

func readProblem(path string, err error) diag.Problem {
	hint := "check the path and the file's permissions"
	if errors.Is(err, fs.ErrNotExist) {
		hint = "run dvp in the plugin's root directory, or pass the config file's path"
	}
	return diag.Problem{File: path, Severity: diag.Error,
		Message: fmt.Sprintf("Unable to read plugin config file '%s'. %s", path, pycompat.OSErrorText(err)), Hint: hint}
}

// Parse is Load without reading the file: data is its content and path is
// used for messages and to resolve srcDir and schemaFile (relative to
// filepath.Dir(path)); those two paths are still checked on disk.
func Parse(path string, data []byte) (*Config, diag.List) { return parse(path, data, checkAll) }

// ParseUnchecked is Parse without the check against plugin_config.yml's
// schema (the costly part: the schema is compiled on first use): the same
// values, and the problems of every other rule (YAML, the Lua keys, srcDir
// and schemaFile on disk). Parse's problems are these and the schema's.
// dvp build uses it for a file whose bytes a build checked before.
func ParseUnchecked(path string, data []byte) (*Config, diag.List) {
	return parse(path, data, checkPaths)
}

// parse is Parse with the checks c: without checkSchema the config is not
// checked against its schema (Peek, ParseUnchecked), without checkPaths
// schemaFile and srcDir are not looked up (LoadSettings).
func parse(path string, data []byte, c checks) (*Config, diag.List) {
	var probs diag.List
	if len(data) > MaxFileSize {
		return nil, diag.List{tooBig(path, int64(len(data)))}
	}
	root, yerr := pyyaml.Parse(data, pyyaml.Options{})
	if yerr != nil {
		return nil, diag.List{yamlProblem(path, yerr)}
	}
	if root == nil || len(root.Content) == 0 {
		return nil, diag.List{{File: path, Line: 1, Column: 1, Severity: diag.Error,
			Message: "None is not of type 'object': the plugin config file is empty (YAML reads an empty document as null)",
			Hint:    "write the plugin settings as `key: value` lines; `dvp init` creates a complete plugin_config.yml"}}
	}
	top := root.Content[0]
	doc, issues := pyyaml.Construct(root, MaxValues)
	for _, is := range issues {
		probs = append(probs, issueProblem(path, is))
	}
	obj, ok := doc.Root.(map[string]any)
	if doc.Truncated {
		// An alias bomb: what was built is partial, checking it would
		// only add noise.
		return nil, probs
	}
	if !ok {
		if doc.Bad[""] {
			return nil, probs
		}
		return nil, append(probs, diag.Problem{File: path, Line: top.Line, Column: top.Column, Severity: diag.Error,
			Message: fmt.Sprintf("%s is not of type 'object': the top level of the plugin config must be a mapping of keys to values, not %s",
				pycompat.Repr(doc.Root, doc.KeysAt, 80), describe(top, doc.Root)),
			Hint: "write the plugin settings as `key: value` lines at the start of the line, e.g. `name: my-plugin`"})
	}
	cfg := &Config{
		Path:                   path,
		ManualDiscovery:        DefaultManualDiscovery,
		RootSquashEnabled:      DefaultRootSquashEnabled,
		DefaultLocale:          DefaultLocale,
		ExtendedStartStopHooks: DefaultExtendedStartStopHooks,
		Present:                map[string]bool{},
		doc:                    doc,
	}
	if abs, err := filepath.Abs(filepath.Dir(path)); err == nil {
		cfg.Dir = abs
	} else {
		cfg.Dir = filepath.Dir(path)
	}
	for k := range obj {
		cfg.Present[k] = true
	}
	if c&checkSchema != 0 {
		probs = append(probs, validateSchema(path, doc, top)...)
	}
	cfg.fill(obj)
	probs = append(probs, luaPairing(path, cfg, obj)...)
	probs = append(probs, emptyLocale(path, cfg, obj)...)
	probs = append(probs, noHostType(path, cfg, obj)...)
	if c&checkPaths != 0 {
		probs = append(probs, cfg.resolvePaths(obj)...)
	}
	probs.Sort()
	return cfg, probs
}

func (c *Config) fill(obj map[string]any) {
	str := func(key string, dst *string) {
		if s, ok := obj[key].(string); ok {
			*dst = s
		}
	}
	boolean := func(key string, dst *bool) {
		if b, ok := obj[key].(bool); ok {
			*dst = b
		}
	}
	str("id", &c.ID)
	str("name", &c.Name)
	str("externalVersion", &c.ExternalVersion)
	str("entryPoint", &c.EntryPoint)
	str("srcDir", &c.SrcDir)
	str("schemaFile", &c.SchemaFile)
	str("pluginType", &c.PluginType)
	str("language", &c.Language)
	str("defaultLocale", &c.DefaultLocale)
	str("buildNumber", &c.BuildNumber)
	str("luaName", &c.LuaName)
	str("minimumLuaVersion", &c.MinimumLuaVersion)
	boolean("manualDiscovery", &c.ManualDiscovery)
	boolean("rootSquashEnabled", &c.RootSquashEnabled)
	boolean("extendedStartStopHooks", &c.ExtendedStartStopHooks)
	if list, ok := obj["hostTypes"].([]any); ok {
		hosts := make([]string, 0, len(list))
		for _, h := range list {
			s, ok := h.(string)
			if !ok {
				hosts = nil
				break
			}
			hosts = append(hosts, s)
		}
		if hosts != nil {
			c.HostTypes = hosts
		}
	}
}

// truthy is Python's truth value of a JSON value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	s := fmt.Sprint(v)
	return strings.Trim(s, "0.-+") != "" && s != "0.0"
}

// luaPairing is the rule that luaName and minimumLuaVersion are given
// together (docs/validation.md, plugin_config.yml).
func luaPairing(path string, c *Config, obj map[string]any) diag.List {
	lua, minimum := truthy(obj["luaName"]), truthy(obj["minimumLuaVersion"])
	var out diag.List
	if lua && !minimum {
		l, col := c.Position("luaName")
		out = append(out, diag.Problem{File: path, Line: l, Column: col, Pointer: "/luaName", Severity: diag.Error,
			Message: `Failed to process property "luaName" without "minimumLuaVersion" set in the plugin config.`,
			Hint:    `add minimumLuaVersion (the lowest Lua toolkit version, major.minor, that can be upgraded), e.g. minimumLuaVersion: "1.0", or remove luaName`})
	}
	if minimum && !lua {
		l, col := c.Position("minimumLuaVersion")
		out = append(out, diag.Problem{File: path, Line: l, Column: col, Pointer: "/minimumLuaVersion", Severity: diag.Error,
			Message: `Failed to process property "minimumLuaVersion" without "luaName" set in the plugin config.`,
			Hint:    "add luaName (the name of the Lua toolkit this plugin upgrades), or remove minimumLuaVersion"})
	}
	return out
}

// emptyLocale warns about an empty defaultLocale — valid to dvp, which writes
// the empty string into the artifact; dvp build writes the default, en-us,
// instead (docs/compatibility.md, The artifact).
func emptyLocale(path string, c *Config, obj map[string]any) diag.List {
	if s, ok := obj["defaultLocale"].(string); !ok || s != "" {
		return nil
	}
	c.DefaultLocale = DefaultLocale
	l, col := c.Position("defaultLocale")
	return diag.List{{File: path, Line: l, Column: col, Pointer: "/defaultLocale", Severity: diag.Warning,
		Message: "defaultLocale is empty, which names no locale: the artifact gets the default, " + DefaultLocale,
		Hint:    "remove defaultLocale (it defaults to " + DefaultLocale + ") or name a locale, e.g. defaultLocale: en-us"}}
}

// noHostType warns about hostTypes: [] — valid to dvp (its meta-schema has
// no minItems), which writes the empty list into the artifact, as dvp build
// does; an engine runs a plugin on one host type and refuses the upload.
func noHostType(path string, c *Config, obj map[string]any) diag.List {
	if l, ok := obj["hostTypes"].([]any); !ok || len(l) != 0 {
		return nil
	}
	line, col := c.Position("hostTypes")
	return diag.List{{File: path, Line: line, Column: col, Pointer: "/hostTypes", Severity: diag.Warning,
		Message: "hostTypes is an empty list: dvp writes it into the artifact as it is, and an engine, which takes exactly one host type (UNIX or WINDOWS) there, refuses the upload",
		Hint:    "name the host type the plugin runs on: hostTypes: [UNIX] or hostTypes: [WINDOWS]"}}
}

func issueProblem(path string, is pyyaml.Issue) diag.Problem {
	p := diag.Problem{File: path, Pointer: is.Pointer, Severity: diag.Error, Message: is.Message, Hint: is.Hint}
	if p.Hint == "" {
		p.Hint = "write plain YAML values here: strings, booleans, lists and mappings without tags or aliases"
	}
	if is.Warning {
		p.Severity = diag.Warning
	}
	if is.Node != nil {
		p.Line, p.Column = is.Node.Line, is.Node.Column
	}
	return p
}

func yamlProblem(path string, e *pyyaml.Error) diag.Problem {
	p := diag.Problem{File: path, Severity: diag.Error}
	if e.ProblemMark != nil {
		p.Line, p.Column = e.ProblemMark.Pos()
	}
	msg := e.Problem
	if e.Context != "" {
		ctx := e.Context
		if e.ContextMark != nil && (e.ProblemMark == nil || *e.ContextMark != *e.ProblemMark) {
			l, c := e.ContextMark.Pos()
			ctx += fmt.Sprintf(" (started at %d:%d)", l, c)
		}
		msg = ctx + ": " + msg
	}
	switch e.Kind {
	case pyyaml.KindReader:
		p.Message = "the plugin config file is not readable YAML text: " + msg
		p.Hint = "save plugin_config.yml as UTF-8 text without control characters"
	case pyyaml.KindLimit:
		p.Message = "the plugin config file is refused: " + msg
		p.Hint = "plugin_config.yml is a flat list of `key: value` settings; remove the nesting"
	default:
		// dvp's message whole, naming the file by its absolute path as
		// dvp does (docs/compatibility.md, plugin_config.yml), with
		// PyYAML's problem text after it.
		abs, err := filepath.Abs(path)
		if err != nil {
			abs = path
		}
		p.Message = fmt.Sprintf("Command failed because the plugin config file provided as input '%s' was not valid yaml. Verify the file contents.", abs)
		if e.ProblemMark != nil {
			p.Message += fmt.Sprintf(" Error position: %d:%d", p.Line, p.Column)
		}
		p.Message += ": " + msg
		p.Hint = yamlHint(e)
	}
	return p
}

func yamlHint(e *pyyaml.Error) string {
	switch {
	case strings.Contains(e.Problem, `'\t'`):
		return "YAML does not allow tabs for indentation; indent with spaces"
	case strings.Contains(e.Problem, "could not find expected ':'"):
		return "each setting must be written `key: value` (a colon followed by a space)"
	case strings.Contains(e.Problem, "mapping values are not allowed here"):
		return "a value containing ': ' must be quoted, e.g. name: \"a: b\"; also check the indentation of this line"
	case strings.Contains(e.Problem, "expected <block end>"):
		return "check the indentation: keys of the same mapping must start in the same column"
	case strings.Contains(e.Problem, "found unexpected end of stream"):
		return "a quoted value is not closed; add the closing quote"
	case strings.Contains(e.Problem, "unknown escape character"):
		return "in double quotes a backslash starts an escape; use single quotes or write \\\\"
	case strings.Contains(e.Problem, "another document"):
		return "remove the '---' line: plugin_config.yml holds a single YAML document"
	case strings.Contains(e.Problem, "undefined alias"):
		return "an alias (*name) must refer to an anchor (&name) defined before it"
	case strings.Contains(e.Problem, "cannot start any token"):
		return "quote the value: characters such as @ and ` cannot start a plain YAML value"
	}
	return "fix the YAML syntax at this position"
}

func describe(n *yaml.Node, v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case nil:
		return "null"
	case string:
		return "a single string"
	case bool:
		return "a boolean"
	}
	if n.Kind == yaml.ScalarNode {
		return "a single value"
	}
	return "a " + n.Tag
}
