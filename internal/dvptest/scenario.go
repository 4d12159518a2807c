package dvptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// scenarioState is what one scenario made, for its steps and its
// clean-up.
type scenarioState struct {
	sc         *Scenario
	containers []string // names, in the order they were made
	scs        []string // source configs made
	envs       []string // environments made
}

// mountRecord is a mount of a container on a local environment, seen
// during the run: a link left there after a failed delete is removed at
// the end when it points into the private engine's data.
type mountRecord struct{ path string }

func skippedScenario(sc *Scenario, why string) *ScenarioResult {
	res := &ScenarioResult{Name: sc.Name, Line: sc.Line, Status: StatusSkipped, Message: why}
	for i, st := range sc.Steps {
		res.Steps = append(res.Steps, &StepResult{Index: i + 1, Name: st.Label, Action: st.Action, Line: st.Line, Status: StatusSkipped})
	}
	return res
}

// scenario runs one scenario: set-up (environments, source configs), its
// steps until one fails, then the deletion of what it made. last says it
// is the last scenario of the run (whose objects --keep keeps).
func (r *run) scenario(ctx context.Context, sc *Scenario, last bool) *ScenarioResult {
	t0 := time.Now()
	p := r.o.Printer
	p.ScenarioStart(sc.Name)
	res := &ScenarioResult{Name: sc.Name, Line: sc.Line, Status: StatusPassed}
	st := &scenarioState{sc: sc}
	setup := &StepResult{Index: 0, Name: "set up environments and source configs", Action: "setup", Line: sc.Line}
	p.StepStart(setup)
	s0 := time.Now()
	err := r.setupScenario(ctx, st)
	setup.Duration = time.Since(s0)
	failed := false
	if err != nil {
		failed = true
		setup.Status, setup.Message = statusOf(ctx), err.Error()
		res.Steps = append(res.Steps, setup)
		p.StepDone(setup)
	}
	for i, step := range sc.Steps {
		sr := &StepResult{Index: i + 1, Name: step.Label, Action: step.Action, Line: step.Line}
		res.Steps = append(res.Steps, sr)
		if failed {
			sr.Status = StatusSkipped
			continue
		}
		p.StepStart(sr)
		s0 := time.Now()
		err := r.step(ctx, st, step)
		sr.Duration = time.Since(s0)
		if err != nil {
			failed = true
			sr.Status, sr.Message = statusOf(ctx), err.Error()
			var de *detailError
			if errors.As(err, &de) {
				sr.Message, sr.Output = de.msg, de.output
			}
		} else {
			sr.Status = StatusPassed
		}
		p.StepDone(sr)
	}
	if failed {
		res.Status = StatusFailed
		if ctx.Err() != nil {
			res.Status = StatusInterrupted
		}
		if r.engine != nil && r.art != nil {
			res.PluginLog = tail(filepath.Join(r.engine.DataDir, "plugin-logs", r.art.PluginID, "debug.log"), 15)
		}
	}
	// --keep keeps the objects of a failed scenario, or of the last one.
	if !r.o.Keep || (!failed && !last) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultCleanup)
		res.CleanupProblems = r.cleanupScenario(cctx, st)
		cancel()
	}
	res.Duration = time.Since(t0)
	p.ScenarioDone(res)
	return res
}

// errInterrupted is the message of a step a signal stopped.
var errInterrupted = errors.New("interrupted: dvp test was stopped (Ctrl-C, SIGTERM or SIGHUP) while this step ran")

func statusOf(ctx context.Context) string {
	if ctx.Err() != nil {
		return StatusInterrupted
	}
	return StatusFailed
}

// detailError is a step failure with the plugin's output apart.
type detailError struct{ msg, output string }

func (e *detailError) Error() string {
	if e.output == "" {
		return e.msg
	}
	return e.msg + "\n" + e.output
}

// await waits for the job a request started; a job that fails is an
// error with the job's message (the plugin's words and output).
func (r *run) await(ctx context.Context, s *engineclient.Started, err error, timeout time.Duration) error {
	if err != nil {
		return engineErr(err)
	}
	if s.Job == "" {
		return nil
	}
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	_, err = r.client.AwaitJob(ctx, s.Job, timeout, nil)
	return engineErr(err)
}

func engineErr(err error) error {
	var ee *engineclient.Error
	if errors.As(err, &ee) {
		return errors.New(ee.Msg)
	}
	return err
}

func (r *run) setupScenario(ctx context.Context, st *scenarioState) error {
	for _, e := range r.spec.Environments {
		p := engineapi.EnvironmentCreateParameters{Name: e.Name, HostType: engineapi.HostLocal, OSUser: e.OSUser}
		if !e.Local {
			p = engineapi.EnvironmentCreateParameters{Name: e.Name, HostType: engineapi.HostSSH, Host: e.Host, Port: e.Port,
				User: e.User, SSHKeyFile: e.Key, KnownHostsFile: e.KnownHosts, InsecureIgnoreHostKey: e.InsecureIgnoreHostKey}
		}
		s, err := r.client.CreateEnvironment(ctx, p)
		if err == nil {
			st.envs = append(st.envs, e.Name)
		}
		if err := r.await(ctx, s, err, 0); err != nil {
			return fmt.Errorf("environment %s (%s:%d): %v", e.Name, r.spec.File, e.Line, err)
		}
	}
	for _, sc := range r.spec.SourceConfigs {
		repo := sc.Repository
		if repo == "" {
			repos, err := r.client.ListRepositories(ctx, sc.Environment)
			if err != nil {
				return engineErr(err)
			}
			if len(repos) != 1 {
				var names []string
				for _, rp := range repos {
					names = append(names, rp.Name)
				}
				return fmt.Errorf("source config %s (%s:%d): environment %s has %d repositories (%s): name one with repository",
					sc.Name, r.spec.File, sc.Line, sc.Environment, len(repos), strings.Join(names, ", "))
			}
			repo = repos[0].Reference
		}
		params := sc.Parameters
		if params == nil {
			params = json.RawMessage(`{}`)
		}
		s, err := r.client.AddSourceConfig(ctx, engineapi.SourceConfigCreateParameters{Name: sc.Name, Environment: sc.Environment, Repository: repo, Parameters: params})
		if err == nil {
			st.scs = append(st.scs, sc.Name)
		}
		if err := r.await(ctx, s, err, 0); err != nil {
			return fmt.Errorf("source config %s (%s:%d): %v", sc.Name, r.spec.File, sc.Line, err)
		}
	}
	return nil
}

// step runs one step: its set-up, its action against its expectation,
// then its checks.
func (r *run) step(ctx context.Context, st *scenarioState, step *Step) error {
	timeout := step.Timeout
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	for _, sh := range step.Setup {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		res, err := r.shell(sctx, sh)
		if err != nil {
			err = shellError(fmt.Sprintf("the set-up on %s (%s:%d)", sh.Environment, r.spec.File, sh.Line),
				"give the step a longer timeout (timeout: 1h), or make the command end sooner", ctx, sctx, timeout, err)
		}
		cancel()
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return &detailError{msg: fmt.Sprintf("set-up on %s (%s:%d) exited %d", sh.Environment, r.spec.File, sh.Line, res.ExitCode), output: outputText(res.Stdout, res.Stderr)}
		}
	}
	err := r.action(ctx, st, step)
	if ctx.Err() != nil {
		return errInterrupted
	}
	switch {
	case step.ExpectFail && err == nil:
		return fmt.Errorf("%s succeeded, but the spec expects it to fail", step.Action)
	case step.ExpectFail && step.FailPattern != nil && !step.FailPattern.MatchString(err.Error()):
		return &detailError{msg: fmt.Sprintf("%s failed as expected, but its message does not match %q", step.Action, step.FailPattern.String()), output: "message: " + err.Error()}
	case !step.ExpectFail && err != nil:
		return splitOutput(err.Error())
	}
	for i, ch := range step.Checks {
		if err := r.check(ctx, ch); err != nil {
			if ctx.Err() != nil {
				return errInterrupted
			}
			var de *detailError
			if errors.As(err, &de) {
				de.msg = fmt.Sprintf("check %d (%s, %s:%d): %s", i+1, ch.Kind, r.spec.File, ch.Line, de.msg)
				return de
			}
			return fmt.Errorf("check %d (%s, %s:%d): %v", i+1, ch.Kind, r.spec.File, ch.Line, err)
		}
	}
	return nil
}

// splitOutput parts a job failure into the plugin's message and the
// output the engine quotes after "Output:".
func splitOutput(msg string) error {
	if i := strings.Index(msg, "\nOutput:"); i >= 0 {
		return &detailError{msg: msg[:i], output: strings.TrimPrefix(msg[i+1:], "\n")}
	}
	return errors.New(msg)
}

func outputText(stdout, stderr string) string {
	var parts []string
	if s := strings.TrimRight(stdout, "\n"); s != "" {
		parts = append(parts, "stdout:\n"+s)
	}
	if s := strings.TrimRight(stderr, "\n"); s != "" {
		parts = append(parts, "stderr:\n"+s)
	}
	return strings.Join(parts, "\n")
}

func orEmpty(p json.RawMessage) json.RawMessage {
	if p == nil {
		return json.RawMessage(`{}`)
	}
	return p
}

func (r *run) action(ctx context.Context, st *scenarioState, step *Step) error {
	c, to := r.client, step.Timeout
	opParams := engineapi.ContainerOpParameters{}
	switch step.Action {
	case ActDiscover:
		s, err := c.RefreshEnvironment(ctx, step.Target)
		return r.await(ctx, s, err, to)
	case ActLink:
		s, err := c.LinkDSource(ctx, engineapi.LinkParameters{Name: step.Target, SourceConfig: step.SourceConfig,
			StagingEnvironment: step.Environment, Parameters: orEmpty(step.Parameters), SnapshotParameters: step.SnapshotParameters})
		if err == nil {
			st.containers = append(st.containers, step.Target)
		}
		err = r.await(ctx, s, err, to)
		r.recordMounts(ctx, step.Target)
		return err
	case ActSync, ActResync:
		s, err := c.Sync(ctx, step.Target, engineapi.ContainerOpParameters{Resync: step.Action == ActResync, SnapshotParameters: step.Parameters})
		return r.await(ctx, s, err, to)
	case ActProvision:
		snap, err := r.snapshot(ctx, step.Snapshot)
		if err != nil {
			return err
		}
		s, err := c.Provision(ctx, engineapi.ProvisionParameters{Name: step.Target, Snapshot: snap, Environment: step.Environment,
			Repository: step.Repository, Parameters: orEmpty(step.Parameters)})
		if err == nil {
			st.containers = append(st.containers, step.Target)
		}
		err = r.await(ctx, s, err, to)
		r.recordMounts(ctx, step.Target)
		return err
	case ActRefresh, ActRollback:
		if step.Snapshot != nil {
			snap, err := r.snapshot(ctx, step.Snapshot)
			if err != nil {
				return err
			}
			opParams.Snapshot = snap
		}
	case ActUpgrade:
		path := step.Artifact
		if step.UpgradeConfig != "" {
			r.upgrades++
			path = filepath.Join(r.dir, fmt.Sprintf("upgrade-%d.json", r.upgrades))
			if _, err := r.build(ctx, step.UpgradeConfig, path); err != nil {
				return err
			}
		}
		return r.upload(ctx, path)
	}
	s, err := c.ContainerOp(ctx, step.Target, step.Action, opParams)
	err = r.await(ctx, s, err, to)
	if step.Action != ActDelete {
		r.recordMounts(ctx, step.Target)
	}
	return err
}

// snapshot resolves a snapshot reference of the spec.
func (r *run) snapshot(ctx context.Context, ref *SnapshotRef) (string, error) {
	snaps, err := r.client.ListSnapshots(ctx, ref.Of)
	if err != nil {
		return "", engineErr(err)
	}
	i := ref.Index - 1
	if ref.Index < 0 {
		i = len(snaps) + ref.Index
	}
	if i < 0 || i >= len(snaps) {
		return "", fmt.Errorf("%s has %d snapshots: there is no snapshot %d", ref.Of, len(snaps), ref.Index)
	}
	return snaps[i].Reference, nil
}

// container reads a dSource or VDB by name (nil when it does not exist).
func (r *run) container(ctx context.Context, name string) (*engineapi.Container, error) {
	cs, err := r.client.ListContainers(ctx)
	if err != nil {
		return nil, engineErr(err)
	}
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], nil
		}
	}
	return nil, nil
}

// environment reads an environment by name or reference.
func (r *run) environment(ctx context.Context, ref string) (*engineapi.Environment, error) {
	envs, err := r.client.ListEnvironments(ctx)
	if err != nil {
		return nil, engineErr(err)
	}
	for i := range envs {
		if envs[i].Name == ref || envs[i].Reference == ref {
			return &envs[i], nil
		}
	}
	return nil, fmt.Errorf("the environment %s does not exist on the engine", ref)
}

// recordMounts remembers the local mounts of a container (a private
// engine's only) for the last-resort clean-up.
func (r *run) recordMounts(ctx context.Context, name string) {
	if r.engine == nil {
		return
	}
	c, err := r.container(context.WithoutCancel(ctx), name)
	if err != nil || c == nil {
		return
	}
	for _, m := range c.Mounts {
		if m.Method == engineapi.MountSymlink {
			r.mu.Lock()
			r.mounts = append(r.mounts, mountRecord{path: m.MountPath})
			r.mu.Unlock()
		}
	}
}

// shellError words the failure of a command of the spec (a set-up or a
// shell check) run with the context own, made from parent with the timeout:
// stopped by Ctrl-C, out of time, or another failure.
func shellError(what, hint string, parent, own context.Context, timeout time.Duration, err error) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s was stopped: dvp test was interrupted", what)
	case errors.Is(own.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s did not end within %s and was stopped: %s", what, timeout, hint)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// shell runs a command with bash on an environment of the spec, as the
// engine runs the plugin's commands there (internal/engine/exec).
func (r *run) shell(ctx context.Context, sh *Shell) (res struct {
	ExitCode       int
	Stdout, Stderr string
}, err error) {
	env, err := r.environment(ctx, sh.Environment)
	if err != nil {
		return res, err
	}
	return r.bash(ctx, *env, sh.Run, nil)
}

func (r *run) bash(ctx context.Context, env engineapi.Environment, command string, vars map[string]string) (res struct {
	ExitCode       int
	Stdout, Stderr string
}, err error) {
	x := exec.New(env)
	defer x.Close()
	out, err := x.RunBash(ctx, pluginhost.BashRequest{Command: command, Variables: vars})
	if err != nil {
		return res, err
	}
	res.ExitCode, res.Stdout, res.Stderr = out.ExitCode, out.Stdout, out.Stderr
	return res, nil
}
