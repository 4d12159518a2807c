// Package dvptest is dvp test: a plugin's whole lifecycle on an engine,
// described in a spec file (dvptest.yml) and run in one command. This file
// is the spec: its types, and Load, which reads and checks a spec and
// reports every mistake at once with its file, line and column
// (docs/dvp-test.md has the reference).
package dvptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/pycompat/pyyaml"
)

// DefaultFile is the spec's file name in a plugin project.
const DefaultFile = "dvptest.yml"

// TmpVar names the scratch directory of a run in a spec (${DVPTEST_TMP}):
// made by the run and removed with everything else at its end.
const TmpVar = "DVPTEST_TMP"

// maxSpecSize bounds the spec file read into memory.
const maxSpecSize = 4 << 20

// Spec is a parsed, checked dvptest.yml.
type Spec struct {
	File          string // as given (for messages)
	Dir           string // the directory of the file, absolute
	PluginConfig  string // absolute path of plugin_config.yml
	Environments  []*Environment
	SourceConfigs []*SourceConfig
	Scenarios     []*Scenario
}

// Pos is where something is written in the spec.
type Pos struct{ Line, Column int }

// Environment is a host the engine runs the plugin on.
type Environment struct {
	Pos
	Name                  string
	Local                 bool
	OSUser                string // local: the OS user commands run as ("": the engine's)
	Host                  string
	Port                  int
	User                  string
	Key                   string
	KnownHosts            string
	InsecureIgnoreHostKey bool
}

// SourceConfig is a source config added by hand on an environment.
type SourceConfig struct {
	Pos
	Name        string
	Environment string
	Repository  string // "" is the only repository discovered on the environment
	Parameters  json.RawMessage
}

// Scenario is a sequence of steps run on fresh objects.
type Scenario struct {
	Pos
	Name  string
	Steps []*Step
}

// The steps' actions, in the order the reference lists them.
const (
	ActDiscover  = "discover"
	ActLink      = "link"
	ActSync      = "sync"
	ActResync    = "resync"
	ActSnapshot  = "snapshot"
	ActProvision = "provision"
	ActRefresh   = "refresh"
	ActRollback  = "rollback"
	ActStart     = "start"
	ActStop      = "stop"
	ActEnable    = "enable"
	ActDisable   = "disable"
	ActUpgrade   = "upgrade"
	ActDelete    = "delete"
)

// Actions lists the step actions.
var Actions = []string{ActDiscover, ActLink, ActSync, ActResync, ActSnapshot, ActProvision, ActRefresh,
	ActRollback, ActStart, ActStop, ActEnable, ActDisable, ActUpgrade, ActDelete}

// Step is one action on the engine with its set-up, expectation and checks.
type Step struct {
	Pos
	Label  string // the step's name: given, or the action and its object
	Action string
	// Target is the object the action works on: the environment of
	// discover, the container of the others, the new object's name for
	// link and provision.
	Target             string
	SourceConfig       string // link
	Environment        string // link (staging), provision
	Repository         string // provision
	Snapshot           *SnapshotRef
	Parameters         json.RawMessage // link, provision: the object's; sync, resync: snapshot parameters
	SnapshotParameters json.RawMessage // link
	Artifact           string          // upgrade: an artifact file
	UpgradeConfig      string          // upgrade: a plugin_config.yml to build
	Setup              []*Shell
	ExpectFail         bool
	FailPattern        *regexp.Regexp // nil: any failure
	Checks             []*Check
	Timeout            time.Duration
}

// SnapshotRef picks a snapshot of a container by position.
type SnapshotRef struct {
	Of string
	// Index counts from 1 (the oldest); negative counts from the newest
	// (-1, the default).
	Index int
}

func (s *SnapshotRef) String() string { return fmt.Sprintf("snapshot %d of %s", s.Index, s.Of) }

// Shell is a command run with bash on an environment.
type Shell struct {
	Pos
	Environment string
	Run         string
	Output      *regexp.Regexp // checks: the output must match
	Exit        int            // checks: the exit code wanted
}

// The kinds of checks.
const (
	CheckFile      = "file"
	CheckSnapshots = "snapshots"
	CheckStatus    = "status"
	CheckLog       = "log"
	CheckShell     = "shell"
)

// Check is something that must hold after a step.
type Check struct {
	Pos
	Kind string
	Of   string // file, snapshots, status: the container
	// file
	Path     string
	Exists   bool
	Absent   bool
	Contains string
	// snapshots
	Count int
	// status
	Runtime string
	Enabled *bool
	Gone    bool // the object does not exist
	// log
	LogFile string
	Matches *regexp.Regexp
	// shell
	Shell *Shell
}

// SpecError is a spec with mistakes: every problem, located.
type SpecError struct{ Problems diag.List }

func (e *SpecError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads and checks the spec at path. lookup resolves ${NAME} in its
// values (nil: the process environment). A spec with mistakes is a
// *SpecError.
func Load(path string, lookup func(string) (string, bool)) (*Spec, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	f, _, err := fsutil.OpenRegular(path)
	var nr *fsutil.NotRegularError
	if errors.As(err, &nr) {
		// A FIFO would wait for a writer, a device (/dev/zero) never end.
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, 0, 0, "cannot read the spec: it is %s, not a regular file; give -f the path of a dvptest.yml file", nr.What)}}
	}
	if err != nil {
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, 0, 0, "cannot read the spec: %v", err)}}
	}
	defer f.Close()
	data, err := readBounded(f, maxSpecSize)
	if err != nil {
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, 0, 0, "cannot read the spec: %v", err)}}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	p := &parser{file: path, lookup: lookup}
	spec := &Spec{File: path, Dir: filepath.Dir(abs)}
	if line, col, b, ok := firstInvalidUTF8(data); ok {
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, line, col, "the spec is not UTF-8 text: byte 0x%02x is no UTF-8 character; save %s as UTF-8", b, filepath.Base(path))}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		var te *yaml.TypeError
		msg := err.Error()
		if m := regexp.MustCompile(`^yaml: line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		} else if ok := asTypeError(err, &te); ok {
			msg = strings.Join(te.Errors, "; ")
		}
		col := 0
		// yaml.v3 names a line only (sometimes the one before the
		// mistake); the PyYAML port, which reads the same syntax, names
		// the line and column where the parse failed.
		if _, perr := pyyaml.Parse(data, pyyaml.Options{}); perr != nil && perr.ProblemMark != nil {
			line, col = perr.ProblemMark.Pos()
			msg = perr.Problem
			if perr.Context != "" {
				ctx := perr.Context
				if m := perr.ContextMark; m != nil && *m != *perr.ProblemMark {
					l, c := m.Pos()
					ctx += fmt.Sprintf(" (started at %d:%d)", l, c)
				}
				msg = ctx + ": " + msg
			}
		}
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, line, col, "the spec is not valid YAML: %s", msg)}}
	}
	if len(doc.Content) == 0 {
		return nil, &SpecError{Problems: diag.List{diag.Errorf(path, 0, 0, "the spec is empty: it needs at least scenarios")}}
	}
	p.spec(doc.Content[0], spec)
	if len(p.problems) > 0 {
		p.problems.Sort()
		return nil, &SpecError{Problems: p.problems}
	}
	return spec, nil
}

func asTypeError(err error, te **yaml.TypeError) bool {
	t, ok := err.(*yaml.TypeError)
	if ok {
		*te = t
	}
	return ok
}

func readBounded(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("it is larger than %d bytes", max)
	}
	return data, nil
}

// parser walks the YAML nodes, collecting problems.
type parser struct {
	file     string
	lookup   func(string) (string, bool)
	problems diag.List
}

func (p *parser) errorf(n *yaml.Node, hint, format string, args ...any) {
	pr := diag.Errorf(p.file, n.Line, n.Column, format, args...)
	pr.Hint = hint
	p.problems = append(p.problems, pr)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!int":
		return "a number"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return "a string"
}

// fields is a mapping node read key by key: each key may be taken once;
// done reports the keys nobody took.
type fields struct {
	p     *parser
	node  *yaml.Node
	what  string
	keys  []string
	vals  map[string]*yaml.Node
	knode map[string]*yaml.Node
	taken map[string]bool
}

func (p *parser) mapping(n *yaml.Node, what string) *fields {
	f := &fields{p: p, node: n, what: what, vals: map[string]*yaml.Node{}, knode: map[string]*yaml.Node{}, taken: map[string]bool{}}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "%s must be a mapping, not %s", what, kindName(n))
		return f
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := f.vals[k.Value]; dup {
			p.errorf(k, "", "%s: the key %q is given twice", what, k.Value)
			continue
		}
		f.keys = append(f.keys, k.Value)
		f.vals[k.Value] = v
		f.knode[k.Value] = k
	}
	return f
}

func (f *fields) get(key string) *yaml.Node {
	f.taken[key] = true
	return f.vals[key]
}

func (f *fields) has(key string) bool { _, ok := f.vals[key]; return ok }

// done reports unknown keys, naming the ones allowed.
func (f *fields) done(allowed ...string) {
	for _, k := range f.keys {
		if f.taken[k] {
			continue
		}
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
			}
		}
		if !ok {
			var all []string
			for _, a := range allowed {
				if a != "" {
					all = append(all, a)
				}
			}
			for t := range f.taken {
				all = append(all, t)
			}
			sort.Strings(all)
			all = uniq(all)
			f.p.errorf(f.knode[k], didYouMean(k, all)+"the keys of "+f.what+" are: "+strings.Join(all, ", "), "%s: unknown key %q", f.what, k)
		}
	}
}

// didYouMean is the start of a hint naming the candidate closest to an
// unknown word ("did you mean \"sync\"? "), or "" when none is close.
func didYouMean(word string, candidates []string) string {
	if s := jsonschemamsg.Suggest(word, candidates, 2); s != "" {
		return fmt.Sprintf("did you mean %q? ", s)
	}
	return ""
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

var varRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`) })

// expand replaces ${NAME} by its value ($$ is a $); an unset name is a
// problem at the node.
func (p *parser) expand(n *yaml.Node) string {
	return varRe().ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := p.lookup(name)
		if !ok {
			p.errorf(n, "export "+name+" before running dvp test, or write the value in the spec", "the variable %s is not set", name)
		}
		return v
	})
}

// str reads a string value (a scalar of any tag: YAML's 1 and true are
// the strings "1" and "true" here).
func (f *fields) str(key string, required bool) string {
	n := f.get(key)
	if n == nil {
		if required {
			f.p.errorf(f.node, "", "%s: the key %q is missing", f.what, key)
		}
		return ""
	}
	return f.p.scalar(n, f.what+"."+key)
}

func (p *parser) scalar(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "", "%s must be a string, not %s", what, kindName(n))
		return ""
	}
	return p.expand(n)
}

func (f *fields) integer(key string, def int) int {
	n := f.get(key)
	if n == nil {
		return def
	}
	if n.Kind != yaml.ScalarNode {
		f.p.errorf(n, "", "%s.%s must be a number, not %s", f.what, key, kindName(n))
		return def
	}
	s := f.p.expand(n)
	v, err := strconv.Atoi(s)
	if err != nil {
		f.p.errorf(n, "", "%s.%s must be a whole number, not %q", f.what, key, s)
		return def
	}
	return v
}

func (f *fields) boolean(key string) (bool, bool) {
	n := f.get(key)
	if n == nil {
		return false, false
	}
	s := ""
	if n.Kind == yaml.ScalarNode {
		s = f.p.expand(n)
	}
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	f.p.errorf(n, "", "%s.%s must be true or false, not %s", f.what, key, kindName(n))
	return false, true
}

func (f *fields) regexp(key string) *regexp.Regexp {
	n := f.get(key)
	if n == nil {
		return nil
	}
	s := f.p.scalar(n, f.what+"."+key)
	re, err := regexp.Compile(s)
	if err != nil {
		f.p.errorf(n, "the pattern is a Go regular expression (RE2 syntax)", "%s.%s is not a valid pattern: %v", f.what, key, err)
		return nil
	}
	return re
}

func (f *fields) duration(key string) time.Duration {
	n := f.get(key)
	if n == nil {
		return 0
	}
	s := f.p.scalar(n, f.what+"."+key)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		f.p.errorf(n, "", "%s.%s must be a positive duration such as 90s or 10m, not %q", f.what, key, s)
		return 0
	}
	return d
}

// params reads plugin parameters: a mapping, its strings expanded,
// turned into a JSON object.
func (f *fields) params(key string) json.RawMessage {
	n := f.get(key)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		f.p.errorf(n, "", "%s.%s must be a mapping (the JSON object of the plugin's parameters), not %s", f.what, key, kindName(n))
		return nil
	}
	v := f.p.jsonValue(n, f.what+"."+key)
	b, err := json.Marshal(v)
	if err != nil {
		f.p.errorf(n, "", "%s.%s cannot be turned into JSON: %v", f.what, key, err)
		return nil
	}
	return b
}

func (p *parser) jsonValue(n *yaml.Node, what string) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = p.jsonValue(n.Content[i+1], what+"."+n.Content[i].Value)
		}
		return m
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			out = append(out, p.jsonValue(c, what))
		}
		return out
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.Style != 0 {
			return p.expand(n)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			p.errorf(n, "", "%s: %v", what, err)
			return nil
		}
		return v
	}
	p.errorf(n, "", "%s: aliases are not supported", what)
	return nil
}

// path is a path of the spec: ~/ is the home directory, a relative path
// is relative to dir (the spec's directory).
func (p *parser) path(dir, s string) string {
	if strings.HasPrefix(s, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, s[2:])
		}
	}
	if s == "" || filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(dir, s)
}

func (p *parser) spec(root *yaml.Node, s *Spec) {
	f := p.mapping(root, "the spec")
	if root.Kind != yaml.MappingNode {
		return
	}
	if n := f.get("version"); n != nil && (n.Kind != yaml.ScalarNode || n.Value != "1") {
		p.errorf(n, "write version: 1, or leave it out", "the spec version must be 1")
	}
	pc := f.str("plugin", false)
	if pc == "" {
		pc = "plugin_config.yml"
	}
	s.PluginConfig = p.path(s.Dir, pc)
	envs := map[string]*Environment{}
	if n := f.get("environments"); n != nil {
		ef := p.mapping(n, "environments")
		for _, name := range ef.keys {
			e := p.environment(name, ef.get(name), ef.knode[name])
			envs[name] = e
			s.Environments = append(s.Environments, e)
		}
	}
	scs := map[string]*SourceConfig{}
	if n := f.get("source_configs"); n != nil {
		sf := p.mapping(n, "source_configs")
		for _, name := range sf.keys {
			sc := p.sourceConfig(name, sf.get(name), sf.knode[name], envs)
			scs[name] = sc
			s.SourceConfigs = append(s.SourceConfigs, sc)
		}
	}
	n := f.get("scenarios")
	if n == nil {
		p.errorf(root, "add scenarios: a list of {name, steps}", "the spec has no scenarios")
	} else if n.Kind != yaml.SequenceNode {
		p.errorf(n, "", "scenarios must be a list, not %s", kindName(n))
	} else {
		names := map[string]bool{}
		for i, c := range n.Content {
			sc := p.scenario(i, c, s, envs, scs)
			if sc == nil {
				continue
			}
			if names[sc.Name] {
				p.errorf(c, "", "two scenarios are named %q", sc.Name)
			}
			names[sc.Name] = true
			s.Scenarios = append(s.Scenarios, sc)
		}
		if len(n.Content) == 0 {
			p.errorf(n, "", "scenarios is empty")
		}
	}
	f.done()
	if len(s.Environments) == 0 {
		p.errorf(root, "add environments: {staging: {local: true}}", "the spec has no environments")
	}
}

func (p *parser) environment(name string, n, key *yaml.Node) *Environment {
	e := &Environment{Pos: Pos{key.Line, key.Column}, Name: name}
	what := "environment " + name
	f := p.mapping(n, what)
	if n.Kind != yaml.MappingNode {
		return e
	}
	local, hasLocal := f.boolean("local")
	e.Local = local
	if hasLocal && !local {
		p.errorf(n, "", "%s: local: false is not an environment: give local: true, or host, user and key for SSH", what)
	}
	e.OSUser = f.str("os_user", false)
	e.Host = f.str("host", false)
	e.Port = f.integer("port", 0)
	e.User = f.str("user", false)
	e.Key = p.path(p.specDir(), f.str("key", false))
	e.KnownHosts = p.path(p.specDir(), f.str("known_hosts", false))
	e.InsecureIgnoreHostKey, _ = f.boolean("insecure_ignore_host_key")
	f.done()
	switch {
	case e.Local && (e.Host != "" || e.User != "" || e.Key != ""):
		p.errorf(n, "", "%s: local: true does not go with host, user or key", what)
	case !e.Local && e.OSUser != "":
		p.errorf(n, "an SSH environment's commands run as its user", "%s: os_user goes with local: true", what)
	case !e.Local && (e.Host == "" || e.User == "" || e.Key == ""):
		p.errorf(n, "a local environment is {local: true}; an SSH one needs host, user and key (and known_hosts or insecure_ignore_host_key)", "%s: give local: true, or host, user and key", what)
	}
	if e.Port < 0 || e.Port > 65535 {
		p.errorf(n, "", "%s: port %d is not a TCP port", what, e.Port)
	}
	return e
}

// specDir is the directory relative paths in the spec are relative to.
func (p *parser) specDir() string {
	abs, err := filepath.Abs(p.file)
	if err != nil {
		return "."
	}
	return filepath.Dir(abs)
}

func (p *parser) sourceConfig(name string, n, key *yaml.Node, envs map[string]*Environment) *SourceConfig {
	sc := &SourceConfig{Pos: Pos{key.Line, key.Column}, Name: name}
	what := "source config " + name
	f := p.mapping(n, what)
	if n.Kind != yaml.MappingNode {
		return sc
	}
	sc.Environment = f.str("environment", true)
	if en := f.vals["environment"]; en != nil && sc.Environment != "" && envs[sc.Environment] == nil {
		p.errorf(en, "environments: "+strings.Join(keysOf(envs), ", "), "%s: no environment is named %q", what, sc.Environment)
	}
	sc.Repository = f.str("repository", false)
	sc.Parameters = f.params("parameters")
	if sc.Parameters == nil && !f.has("parameters") {
		p.errorf(n, "the parameters of the plugin's sourceConfigDefinition, as a mapping", "%s: the key \"parameters\" is missing", what)
	}
	f.done()
	return sc
}

func keysOf[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
