// Package scaffold implements dvp init: it writes a plugin project that
// builds at once — plugin_config.yml, schema.json, the Go sources in src/
// (go.mod, plugin_runner.go, the generated package) and the SDK copy in
// .dvp/sdk — atomically: everything is written into a temporary directory
// inside the root and then renamed into place; on any failure nothing is
// left behind. See docs/plugin-project.md.
package scaffold

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	dvp "github.com/dvpkit/dvp"
	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/codegen"
	"github.com/dvpkit/dvp/internal/pycompat/pyyaml"
	"github.com/dvpkit/dvp/internal/sdkcopy"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Defaults of dvp init (docs/plugin-project.md, dvp init).
const (
	ConfigFile     = "plugin_config.yml"
	SchemaFile     = "schema.json"
	SrcDir         = "src"
	EntryPointFile = "plugin_runner.go"
	// TestFile is the example unit test of the operations, beside the
	// entry point.
	TestFile = "plugin_runner_test.go"
	// IgnoreFile is the .gitignore Init writes at the root unless one
	// exists: artifact.json and what dvp build writes again.
	IgnoreFile = ".gitignore"
	// TestSpecFile is the starter spec of dvp test (docs/dvp-test.md),
	// written at the root unless one exists, like IgnoreFile.
	TestSpecFile = "dvptest.yml"
	EntryPoint   = "plugin_runner:plugin"
	BuildNumber  = "0.1.0"
	Language     = artifact.LanguageGo
	GeneratedDir = codegen.Package
)

// Host types: the artifact's. (The plugin types are
// protocol.PluginTypeDirect and protocol.PluginTypeStaged.)
const (
	Unix    = artifact.HostTypeUnix
	Windows = artifact.HostTypeWindows
)

// Options are the inputs of Init.
type Options struct {
	// Root is the project directory; it must exist.
	Root string
	// Name is the plugin's name; empty means the plugin id.
	Name string
	// PluginType is DIRECT or STAGED; HostType UNIX or WINDOWS.
	PluginType string
	HostType   string
	// ID is the plugin id; empty means a new random UUID (tests set it).
	ID string
}

// Result describes the project Init wrote.
type Result struct {
	Root   string // absolute
	ID     string
	Name   string
	Module string   // the Go module of srcDir
	Paths  []string // what Init created, absolute, in creation order
}

// ExistsError is returned when a file Init would write already exists.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return fmt.Sprintf("The path '%s' already exists.", e.Path) }

// InitError wraps a failure after the checks (everything was rolled back).
type InitError struct {
	Root string
	Err  error
}

func (e *InitError) Error() string {
	return fmt.Sprintf("Failed to initialize plugin directory %s: %v.", e.Root, e.Err)
}
func (e *InitError) Unwrap() error { return e.Err }

// rename is os.Rename; tests make it fail.
var rename = os.Rename

// Targets are the paths Init writes, relative to the root, in the order
// they are checked: dvp 5.0.1's three, then the SDK copy.
var Targets = []string{ConfigFile, SchemaFile, SrcDir, filepath.FromSlash(sdkcopy.Dir)}

// Init writes a new plugin project into opts.Root.
func Init(opts Options) (*Result, error) {
	if opts.PluginType != protocol.PluginTypeDirect && opts.PluginType != protocol.PluginTypeStaged {
		return nil, fmt.Errorf("the plugin type %q is not DIRECT or STAGED", opts.PluginType)
	}
	if opts.HostType != Unix && opts.HostType != Windows {
		return nil, fmt.Errorf("the host type %q is not UNIX or WINDOWS", opts.HostType)
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	for _, t := range Targets {
		p := filepath.Join(root, t)
		if _, err := os.Lstat(p); err == nil {
			return nil, &ExistsError{Path: p}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, &InitError{Root: root, Err: err}
		}
	}
	id := opts.ID
	if id == "" {
		id = uuid.NewString()
	}
	name := opts.Name
	if name == "" {
		name = id
	}
	res := &Result{Root: root, ID: id, Name: name, Module: ModuleName(name)}
	if err := write(res, opts); err != nil {
		return nil, &InitError{Root: root, Err: err}
	}
	return res, nil
}

// write builds the project in a temporary directory inside the root, then
// renames its parts into place; on failure it removes what it created.
func write(res *Result, opts Options) (err error) {
	tmp, err := os.MkdirTemp(res.Root, ".dvp-init-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	files, err := Render(res.ID, res.Name, opts.PluginType, opts.HostType)
	if err != nil {
		return err
	}
	for rel, data := range files {
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	if err := sdkcopy.WriteTo(filepath.Join(tmp, "sdk")); err != nil {
		return err
	}

	// Move into place: the SDK copy and the sources first, the config last
	// (it is what makes the directory a project).
	var created []string
	defer func() {
		if err != nil {
			for i := len(created) - 1; i >= 0; i-- {
				os.RemoveAll(created[i])
			}
		}
	}()
	dotDvp := filepath.Join(res.Root, filepath.Dir(filepath.FromSlash(sdkcopy.Dir)))
	if _, serr := os.Lstat(dotDvp); errors.Is(serr, fs.ErrNotExist) {
		if err := os.Mkdir(dotDvp, 0o755); err != nil {
			return err
		}
		created = append(created, dotDvp)
	}
	moves := [][2]string{
		{"sdk", filepath.FromSlash(sdkcopy.Dir)},
		{SrcDir, SrcDir},
		{SchemaFile, SchemaFile},
	}
	// A .gitignore or dvptest.yml the user already has is theirs: left as
	// it is.
	for _, f := range []string{IgnoreFile, TestSpecFile} {
		if _, serr := os.Lstat(filepath.Join(res.Root, f)); errors.Is(serr, fs.ErrNotExist) {
			moves = append(moves, [2]string{f, f})
		}
	}
	moves = append(moves, [2]string{ConfigFile, ConfigFile})
	for _, m := range moves {
		dst := filepath.Join(res.Root, m[1])
		if _, serr := os.Lstat(dst); serr == nil {
			return &ExistsError{Path: dst} // appeared meanwhile
		}
		if err := rename(filepath.Join(tmp, m[0]), dst); err != nil {
			return err
		}
		created = append(created, dst)
	}
	res.Paths = created
	return nil
}

// Render returns the project files Init writes (except the SDK copy), by
// slash-separated path relative to the root.
func Render(id, name, pluginType, hostType string) (map[string][]byte, error) {
	schema, err := fs.ReadFile(dvp.Templates, "templates/schema.json")
	if err != nil {
		return nil, err
	}
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(schema, &defs); err != nil {
		return nil, fmt.Errorf("the schema template: %w", err)
	}
	gen, err := codegen.Generate(defs, codegen.Options{Package: GeneratedDir, SchemaFile: SchemaFile, PluginType: pluginType})
	if err != nil {
		return nil, fmt.Errorf("generating code: %w", err)
	}
	out := map[string][]byte{
		SchemaFile: schema,
		ConfigFile: PluginConfig(id, name, pluginType, hostType),
	}
	for f, data := range gen.Files {
		out[SrcDir+"/"+GeneratedDir+"/"+f] = data
	}
	module := ModuleName(name)
	// The mounts go under the environment's scratch path (docs/plugin-project.md).
	mountPrefix := "dlpx_staged_mounts"
	if hostType == Windows {
		mountPrefix = `\dlpx_staged_mounts\`
	}
	data := map[string]any{
		"Module":      module,
		"GoVersion":   sdkcopy.GoVersion(),
		"SDKModule":   sdkcopy.ModulePath,
		"SDKVersion":  sdkcopy.Version,
		"Name":        commentText(name),
		"ID":          strconv.Quote(id),
		"PluginType":  pluginType,
		"HostType":    hostType,
		"Staged":      pluginType == protocol.PluginTypeStaged,
		"Windows":     hostType == Windows,
		"MountPrefix": strconv.Quote(mountPrefix),
	}
	gomod, err := execute("templates/go.mod.tmpl", data)
	if err != nil {
		return nil, err
	}
	out[SrcDir+"/go.mod"] = gomod
	runner, err := execute("templates/plugin_runner.go.tmpl", data)
	if err != nil {
		return nil, err
	}
	formatted, err := format.Source(runner)
	if err != nil {
		return nil, fmt.Errorf("the entry point template does not render to valid Go: %w", err)
	}
	out[SrcDir+"/"+EntryPointFile] = formatted
	test, err := execute("templates/plugin_runner_test.go.tmpl", data)
	if err != nil {
		return nil, err
	}
	if test, err = format.Source(test); err != nil {
		return nil, fmt.Errorf("the test template does not render to valid Go: %w", err)
	}
	out[SrcDir+"/"+TestFile] = test
	ignore, err := execute("templates/gitignore.tmpl", data)
	if err != nil {
		return nil, err
	}
	out[IgnoreFile] = ignore
	spec, err := execute("templates/dvptest.yml.tmpl", data)
	if err != nil {
		return nil, err
	}
	out[TestSpecFile] = spec
	return out, nil
}

func execute(name string, data any) ([]byte, error) {
	t, err := template.ParseFS(dvp.Templates, name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PluginConfig renders plugin_config.yml with the keys and values dvp
// 5.0.1 writes (language GO; see docs/compatibility.md, init), in PyYAML's
// block layout; scalars are encoded by yaml.v3, which quotes them as
// needed.
func PluginConfig(id, name, pluginType, hostType string) []byte {
	var b bytes.Buffer
	kv := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, scalar(v)) }
	kv("id", id)
	kv("name", name)
	kv("language", Language)
	fmt.Fprintf(&b, "hostTypes:\n- %s\n", scalar(hostType))
	kv("pluginType", pluginType)
	kv("entryPoint", EntryPoint)
	kv("srcDir", SrcDir)
	kv("schemaFile", SchemaFile)
	kv("buildNumber", BuildNumber)
	return b.Bytes()
}

// scalar encodes a string as a YAML scalar on one line: plain when YAML
// (1.2 for yaml.v3, and 1.1 as dvp and PyYAML read it) reads it back as the
// same string, quoted otherwise.
func scalar(s string) string {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case strings.ContainsAny(s, "\n\r") || !isPrintable(s):
		n.Style = yaml.DoubleQuotedStyle
	case pyyaml.ResolveScalar(s) != pyyaml.TagStr:
		n.Style = yaml.SingleQuotedStyle // yes, on, 12:30, ...
	}
	out, err := yaml.Marshal(n)
	if err != nil {
		return strconv.Quote(s) // JSON string syntax is valid YAML
	}
	return strings.TrimSuffix(string(out), "\n")
}

func isPrintable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ModuleName derives the Go module path of srcDir from the plugin name:
// lower case, runs of characters other than letters and digits become "-",
// and a name that does not start with a letter gets the prefix "plugin-".
func ModuleName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	m := b.String()
	if len(m) > 64 {
		m = strings.TrimRight(m[:64], "-")
	}
	if m == "" || !unicode.IsLetter(rune(m[0])) {
		m = "plugin-" + m
	}
	switch m {
	case "std", "cmd", "main", "all", "tool", "test", "local":
		m = "plugin-" + m
	}
	return strings.TrimSuffix(m, "-")
}

// commentText makes a name safe inside a // comment line.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
}
