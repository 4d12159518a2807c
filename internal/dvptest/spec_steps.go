package dvptest

import (
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The kinds of object a scenario makes.
const (
	kindDSource = "dSource"
	kindVDB     = "VDB"
)

// stepShape is what an action takes: its primary key (the one a scalar
// stands for), its other keys, and the kind of object it works on.
type stepShape struct {
	primary  string
	keys     []string
	required []string
	on       string // kindDSource, kindVDB, "any" (either), "" (none)
}

var shapes = map[string]stepShape{
	ActDiscover:  {primary: "environment"},
	ActLink:      {keys: []string{"name", "source_config", "environment", "parameters", "snapshot_parameters"}, required: []string{"name", "source_config"}},
	ActSync:      {primary: "dsource", keys: []string{"parameters"}, on: kindDSource},
	ActResync:    {primary: "dsource", keys: []string{"parameters"}, on: kindDSource},
	ActSnapshot:  {primary: "vdb", on: kindVDB},
	ActProvision: {keys: []string{"name", "snapshot", "environment", "repository", "parameters"}, required: []string{"name", "snapshot", "environment"}},
	ActRefresh:   {primary: "vdb", keys: []string{"snapshot"}, on: kindVDB},
	ActRollback:  {primary: "vdb", keys: []string{"snapshot"}, on: kindVDB},
	ActStart:     {primary: "vdb", on: kindVDB},
	ActStop:      {primary: "vdb", on: kindVDB},
	ActEnable:    {primary: "object", on: "any"},
	ActDisable:   {primary: "object", on: "any"},
	ActDelete:    {primary: "object", on: "any"},
	ActUpgrade:   {keys: []string{"artifact", "plugin_config"}},
}

// scope is what a scenario knows at a step: the spec's environments and
// source configs, and the objects earlier steps made.
type scope struct {
	envs    map[string]*Environment
	scs     map[string]*SourceConfig
	objects map[string]string // name -> kindDSource | kindVDB
}

func (p *parser) scenario(i int, n *yaml.Node, s *Spec, envs map[string]*Environment, scs map[string]*SourceConfig) *Scenario {
	sc := &Scenario{Pos: Pos{n.Line, n.Column}}
	f := p.mapping(n, "scenario "+itoa(i+1))
	if n.Kind != yaml.MappingNode {
		return nil
	}
	sc.Name = f.str("name", true)
	if sc.Name != "" {
		f.what = "scenario " + sc.Name
	}
	sn := f.get("steps")
	f.done()
	if sn == nil {
		p.errorf(n, "", "%s has no steps", f.what)
		return sc
	}
	if sn.Kind != yaml.SequenceNode {
		p.errorf(sn, "", "%s: steps must be a list, not %s", f.what, kindName(sn))
		return sc
	}
	sco := &scope{envs: envs, scs: scs, objects: map[string]string{}}
	for j, c := range sn.Content {
		if st := p.step(f.what+", step "+itoa(j+1), c, sco); st != nil {
			sc.Steps = append(sc.Steps, st)
		}
	}
	if len(sn.Content) == 0 {
		p.errorf(sn, "", "%s has no steps", f.what)
	}
	return sc
}

func itoa(i int) string { return strconv.Itoa(i) }

func (p *parser) step(what string, n *yaml.Node, sco *scope) *Step {
	f := p.mapping(n, what)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	st := &Step{Pos: Pos{n.Line, n.Column}}
	var actions []string
	for _, k := range f.keys {
		if _, ok := shapes[k]; ok {
			actions = append(actions, k)
		}
	}
	switch len(actions) {
	case 0:
		hint := "a step is a mapping with one action: " + strings.Join(Actions, ", ")
		unknown := false
		for _, k := range f.keys {
			switch k {
			case "name", "setup", "expect", "check", "timeout":
			default:
				p.errorf(f.knode[k], didYouMean(k, append([]string{"name", "setup", "expect", "check", "timeout"}, Actions...))+hint, "%s: unknown step %q", what, k)
				f.taken[k] = true
				unknown = true
			}
		}
		if !unknown {
			p.errorf(n, hint, "%s has no action", what)
		}
	case 1:
	default:
		p.errorf(f.knode[actions[1]], "write one action per step", "%s has two actions, %s and %s", what, actions[0], actions[1])
	}
	if en := f.get("expect"); en != nil {
		p.expect(what, st, en)
	}
	if len(actions) > 0 {
		st.Action = actions[0]
		p.action(what+": "+st.Action, st, f.get(st.Action), sco)
	}
	st.Label = f.str("name", false)
	if st.Label == "" {
		st.Label = st.Action
		if st.Target != "" {
			st.Label += " " + st.Target
		}
	}
	if sn := f.get("setup"); sn != nil {
		st.Setup = p.shells(what+": setup", sn, sco, false)
	}
	if cn := f.get("check"); cn != nil {
		st.Checks = p.checks(what, cn, sco)
	}
	st.Timeout = f.duration("timeout")
	f.done("name", "setup", "expect", "check", "timeout")
	return st
}

// action reads the value of a step's action key.
func (p *parser) action(what string, st *Step, n *yaml.Node, sco *scope) {
	shape := shapes[st.Action]
	var f *fields
	if n.Kind == yaml.ScalarNode && shape.primary != "" && n.Tag != "!!null" {
		st.Target = p.expand(n)
		f = &fields{p: p, node: n, what: what, vals: map[string]*yaml.Node{}, knode: map[string]*yaml.Node{}, taken: map[string]bool{}}
	} else {
		if n.Kind != yaml.MappingNode {
			hint := ""
			if shape.primary != "" {
				hint = "give the " + shape.primary + "'s name, or a mapping with " + strings.Join(append([]string{shape.primary}, shape.keys...), ", ")
			}
			p.errorf(n, hint, "%s must be a mapping, not %s", what, kindName(n))
			return
		}
		f = p.mapping(n, what)
		if shape.primary != "" {
			st.Target = f.str(shape.primary, true)
		}
	}
	for _, k := range shape.required {
		if !f.has(k) {
			p.errorf(n, "", "%s: the key %q is missing", what, k)
		}
	}
	switch st.Action {
	case ActDiscover:
		p.needEnv(what, f.vals["environment"], n, st.Target, sco)
	case ActLink:
		st.Target = f.str("name", false)
		st.SourceConfig = f.str("source_config", false)
		if st.SourceConfig != "" && sco.scs[st.SourceConfig] == nil {
			p.errorf(f.vals["source_config"], "source_configs: "+strings.Join(keysOf(sco.scs), ", "), "%s: no source config is named %q", what, st.SourceConfig)
		}
		st.Environment = f.str("environment", false)
		if st.Environment != "" {
			p.needEnv(what, f.vals["environment"], n, st.Environment, sco)
		}
		st.Parameters = f.params("parameters")
		st.SnapshotParameters = f.params("snapshot_parameters")
	case ActSync, ActResync:
		st.Parameters = f.params("parameters")
	case ActProvision:
		st.Target = f.str("name", false)
		st.Environment = f.str("environment", false)
		if st.Environment != "" {
			p.needEnv(what, f.vals["environment"], n, st.Environment, sco)
		}
		st.Repository = f.str("repository", false)
		st.Parameters = f.params("parameters")
		if sn := f.get("snapshot"); sn != nil {
			st.Snapshot = p.snapshotRef(what+".snapshot", sn, sco)
		}
	case ActRefresh, ActRollback:
		if sn := f.get("snapshot"); sn != nil {
			st.Snapshot = p.snapshotRef(what+".snapshot", sn, sco)
		}
	case ActUpgrade:
		st.Artifact = p.path(p.specDir(), f.str("artifact", false))
		st.UpgradeConfig = p.path(p.specDir(), f.str("plugin_config", false))
		if (st.Artifact == "") == (st.UpgradeConfig == "") {
			p.errorf(n, "artifact: FILE uploads a built artifact; plugin_config: FILE builds that project first", "%s needs one of artifact or plugin_config", what)
		}
	}
	if shape.on != "" && st.Target != "" {
		at := n
		if v := f.vals[shape.primary]; v != nil {
			at = v
		}
		p.needObject(what, at, st.Target, shape.on, sco)
	}
	allowed := append([]string{shape.primary}, shape.keys...)
	f.done(allowed...)
	// The objects the step makes or removes, for the steps after it.
	if !st.ExpectFail && st.Target != "" {
		switch st.Action {
		case ActLink:
			if sco.objects[st.Target] != "" {
				p.errorf(n, "", "%s: an object named %q exists already in this scenario", what, st.Target)
			}
			sco.objects[st.Target] = kindDSource
		case ActProvision:
			if sco.objects[st.Target] != "" {
				p.errorf(n, "", "%s: an object named %q exists already in this scenario", what, st.Target)
			}
			sco.objects[st.Target] = kindVDB
		case ActDelete:
			delete(sco.objects, st.Target)
		}
	}
}

func (p *parser) needEnv(what string, at, parent *yaml.Node, name string, sco *scope) {
	if name == "" || sco.envs[name] != nil {
		return
	}
	if at == nil {
		at = parent
	}
	p.errorf(at, "environments: "+strings.Join(keysOf(sco.envs), ", "), "%s: no environment is named %q", what, name)
}

func (p *parser) needObject(what string, at *yaml.Node, name, kind string, sco *scope) {
	got := sco.objects[name]
	switch {
	case got == "":
		p.errorf(at, "objects are made by link (dSources) and provision (VDBs) steps earlier in the same scenario", "%s: no earlier step of this scenario makes %q", what, name)
	case kind != "any" && got != kind:
		p.errorf(at, "", "%s works on a %s, and %q is a %s", what, kind, name, got)
	}
}

func (p *parser) snapshotRef(what string, n *yaml.Node, sco *scope) *SnapshotRef {
	ref := &SnapshotRef{Index: -1}
	if n.Kind == yaml.ScalarNode {
		ref.Of = p.expand(n)
	} else {
		f := p.mapping(n, what)
		if n.Kind != yaml.MappingNode {
			return ref
		}
		ref.Of = f.str("of", true)
		ref.Index = f.integer("index", -1)
		if ref.Index == 0 {
			p.errorf(f.vals["index"], "1 is the oldest snapshot, -1 the newest", "%s.index must not be 0", what)
		}
		f.done("of", "index")
	}
	if ref.Of != "" {
		p.needObject(what, n, ref.Of, "any", sco)
	}
	return ref
}

func (p *parser) expect(what string, st *Step, n *yaml.Node) {
	hint := "expect: success (the default), expect: failure, or expect: {failure: PATTERN} (a pattern of the failure's message)"
	switch n.Kind {
	case yaml.ScalarNode:
		switch p.expand(n) {
		case "success":
		case "failure":
			st.ExpectFail = true
		default:
			p.errorf(n, hint, "%s: expect must be success or failure, not %q", what, n.Value)
		}
	case yaml.MappingNode:
		f := p.mapping(n, what+": expect")
		if !f.has("failure") {
			p.errorf(n, hint, "%s: expect needs the key failure", what)
		}
		st.ExpectFail = true
		st.FailPattern = f.regexp("failure")
		f.done("failure")
	default:
		p.errorf(n, hint, "%s: expect must be a string or a mapping, not %s", what, kindName(n))
	}
}

func (p *parser) shells(what string, n *yaml.Node, sco *scope, check bool) []*Shell {
	var nodes []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	} else {
		nodes = []*yaml.Node{n}
	}
	var out []*Shell
	for _, c := range nodes {
		if sh := p.shell(what, c, sco, check); sh != nil {
			out = append(out, sh)
		}
	}
	return out
}

func (p *parser) shell(what string, n *yaml.Node, sco *scope, check bool) *Shell {
	f := p.mapping(n, what)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	sh := &Shell{Pos: Pos{n.Line, n.Column}}
	sh.Environment = f.str("environment", true)
	p.needEnv(what, f.vals["environment"], n, sh.Environment, sco)
	sh.Run = f.str("run", true)
	allowed := []string{"environment", "run"}
	if check {
		sh.Output = f.regexp("output")
		sh.Exit = f.integer("exit", 0)
		allowed = append(allowed, "output", "exit")
	}
	f.done(allowed...)
	return sh
}

var checkKinds = []string{CheckFile, CheckSnapshots, CheckStatus, CheckLog, CheckShell}

func (p *parser) checks(what string, n *yaml.Node, sco *scope) []*Check {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "", "%s: check must be a list, not %s", what, kindName(n))
		return nil
	}
	var out []*Check
	for i, c := range n.Content {
		cw := what + ", check " + itoa(i+1)
		if c.Kind != yaml.MappingNode || len(c.Content) != 2 {
			p.errorf(c, "a check is a mapping with one of: "+strings.Join(checkKinds, ", "), "%s must be a mapping with one key", cw)
			continue
		}
		k, v := c.Content[0], c.Content[1]
		ch := &Check{Pos: Pos{k.Line, k.Column}, Kind: k.Value}
		cw += ": " + k.Value
		switch k.Value {
		case CheckFile:
			f := p.mapping(v, cw)
			ch.Of = f.str("of", true)
			ch.Path = f.str("path", true)
			ch.Exists, _ = f.boolean("exists")
			ch.Absent, _ = f.boolean("absent")
			ch.Contains = f.str("contains", false)
			if v.Kind == yaml.MappingNode && !ch.Exists && !ch.Absent && !f.has("contains") {
				p.errorf(v, "", "%s needs exists: true, absent: true or contains: TEXT", cw)
			}
			if ch.Absent && (ch.Exists || ch.Contains != "") {
				p.errorf(v, "", "%s: absent does not go with exists or contains", cw)
			}
			f.done("of", "path", "exists", "absent", "contains")
		case CheckSnapshots:
			f := p.mapping(v, cw)
			ch.Of = f.str("of", true)
			if !f.has("count") && v.Kind == yaml.MappingNode {
				p.errorf(v, "", "%s: the key \"count\" is missing", cw)
			}
			ch.Count = f.integer("count", 0)
			f.done("of", "count")
		case CheckStatus:
			f := p.mapping(v, cw)
			ch.Of = f.str("of", true)
			ch.Runtime = f.str("runtime", false)
			if ch.Runtime != "" && ch.Runtime != "ACTIVE" && ch.Runtime != "INACTIVE" && ch.Runtime != "UNKNOWN" {
				p.errorf(f.vals["runtime"], "", "%s: runtime must be ACTIVE, INACTIVE or UNKNOWN, not %q", cw, ch.Runtime)
			}
			if b, ok := f.boolean("enabled"); ok {
				ch.Enabled = &b
			}
			ch.Gone, _ = f.boolean("deleted")
			f.done("of", "runtime", "enabled", "deleted")
			// A check may look at an object deleted just before: only the
			// name must be one this scenario uses.
			if ch.Of != "" && !ch.Gone {
				p.needObject(cw, v, ch.Of, "any", sco)
			}
		case CheckLog:
			f := p.mapping(v, cw)
			ch.LogFile = f.str("file", false)
			switch ch.LogFile {
			case "":
				ch.LogFile = "debug.log"
			case "debug.log", "info.log", "error.log", "output.log":
			default:
				p.errorf(f.vals["file"], "", "%s: file must be debug.log, info.log, error.log or output.log", cw)
			}
			ch.Contains = f.str("contains", false)
			ch.Matches = f.regexp("matches")
			if v.Kind == yaml.MappingNode && !f.has("contains") && !f.has("matches") {
				p.errorf(v, "", "%s needs contains: TEXT or matches: PATTERN", cw)
			}
			f.done("file", "contains", "matches")
		case CheckShell:
			ch.Shell = p.shell(cw, v, sco, true)
		default:
			p.errorf(k, didYouMean(k.Value, checkKinds)+"checks: "+strings.Join(checkKinds, ", "), "%s: unknown check %q", what, k.Value)
			continue
		}
		if ch.Of != "" && (ch.Kind == CheckFile || ch.Kind == CheckSnapshots) {
			p.needObject(cw, v, ch.Of, "any", sco)
		}
		out = append(out, ch)
	}
	return out
}

// Names lists the scenario names of a spec, sorted (for messages).
func (s *Spec) Names() []string {
	var out []string
	for _, sc := range s.Scenarios {
		out = append(out, sc.Name)
	}
	sort.Strings(out)
	return out
}
