package dvptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/build"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/upload"
)

// Defaults of a run.
const (
	DefaultStepTimeout   = 30 * time.Minute
	DefaultCleanup       = 5 * time.Minute
	engineStartTimeout   = 2 * time.Minute
	engineStopGrace      = time.Minute
	abortStopGrace       = 2 * time.Second
	defaultEngineUser    = "admin"
	tmpPattern           = "dvp-test-"
	maxFailureOutputLine = 40
)

// Remote is an engine given with -e: its client (not logged in) and
// credentials.
type Remote struct {
	Client         *engineclient.Client
	User, Password string
}

// Options are the inputs of Run.
type Options struct {
	SpecPath string
	// Run selects the scenarios whose names match; nil runs all.
	Run *regexp.Regexp
	// Remote, when set, is the engine to use; nil starts a private one.
	Remote *Remote
	// NewClient makes the engine client of the private engine
	// (engineclient.New when nil).
	NewClient func(engineclient.Options) (*engineclient.Client, error)
	// Executable is the dvp binary the private engine runs; "" is this
	// process's (os.Executable).
	Executable string
	// Keep leaves the private engine running with its data, and the
	// objects of the scenarios.
	Keep       bool
	DvpVersion string
	// Lookup resolves ${NAME} in the spec (os.LookupEnv when nil);
	// DVPTEST_TMP is the run's own.
	Lookup func(string) (string, bool)
	// Printer is told of each scenario and step as it runs (nil: none).
	Printer Printer
	Log     *slog.Logger
	// Abort, when set, is given at the start of the run a function that
	// ends the run at once from another goroutine, for a caller that is
	// about to exit (a second Ctrl-C): it stops the private engine and
	// removes the run's temporary directory (--keep keeps both), and
	// says what it left.
	Abort func(abort func() (left string))
}

// ErrNoScenario is returned when --run matches no scenario.
var ErrNoScenario = errors.New("no scenario matches")

// run is the state of one Run.
type run struct {
	o        Options
	spec     *Spec
	dir      string // the run's temporary directory
	engine   *privateEngine
	client   *engineclient.Client
	user, pw string
	art      *artifact.Artifact
	rep      *Report
	log      *slog.Logger
	// mu guards engine and mounts, which abort reads from another
	// goroutine.
	mu       sync.Mutex
	mounts   []mountRecord
	upgrades int
	// newPlugin: the plugin was not on the engine of -e before the run.
	newPlugin bool
}

// Run runs the spec's scenarios (docs/dvp-test.md): build the plugin,
// start a private engine (or use Options.Remote), upload, run each
// scenario on fresh objects, and delete everything made — also when a
// step fails or ctx ends (Ctrl-C). A spec with mistakes is a *SpecError
// and nothing is made. The report says what passed; the error is for
// what stopped the run as a whole.
func Run(ctx context.Context, o Options) (rep *Report, err error) {
	start := time.Now()
	r := &run{o: o, log: o.Log}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Printer == nil {
		r.o.Printer = nopPrinter{}
	}
	dir, err := os.MkdirTemp("", tmpPattern)
	if err != nil {
		return nil, fmt.Errorf("cannot make the run's temporary directory: %v", err)
	}
	r.dir = dir
	if o.Abort != nil {
		o.Abort(r.abort)
	}
	kept := false
	defer func() {
		if !kept {
			os.RemoveAll(dir)
		}
	}()
	work := filepath.Join(dir, "tmp")
	if err := os.Mkdir(work, 0o700); err != nil {
		return nil, err
	}
	selected, err := r.loadSpec(work)
	if err != nil {
		return nil, err
	}
	r.rep = &Report{Spec: o.SpecPath}
	defer func() {
		r.rep.Duration = time.Since(start)
		r.rep.count()
	}()

	// Everything below is undone by cleanup, whatever happens.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultCleanup)
		defer cancel()
		if o.Keep {
			kept = true
			r.rep.Kept = r.keepInfo()
			return
		}
		if problems := r.cleanup(cctx); len(problems) > 0 {
			r.rep.CleanupProblems = append(r.rep.CleanupProblems, problems...)
		}
	}()

	if err := r.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			r.rep.Interrupted = true
			err = errPhaseInterrupted
		}
		r.rep.Error = err.Error()
		for _, sc := range selected {
			r.rep.Scenarios = append(r.rep.Scenarios, skippedScenario(sc, "not run: "+oneLine(err.Error())))
		}
		return r.rep, nil
	}
	r.runScenarios(ctx, selected)
	return r.rep, nil
}

// loadSpec loads the spec (its ${TMP} the run's work directory) and
// returns the scenarios Options.Run selects.
func (r *run) loadSpec(work string) ([]*Scenario, error) {
	o := r.o
	lookup := o.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var err error
	r.spec, err = Load(o.SpecPath, func(name string) (string, bool) {
		if name == TmpVar {
			return work, true
		}
		return lookup(name)
	})
	if err != nil {
		return nil, err
	}
	var selected []*Scenario
	for _, sc := range r.spec.Scenarios {
		if o.Run == nil || o.Run.MatchString(sc.Name) {
			selected = append(selected, sc)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("%w %q; the scenarios are: %s", ErrNoScenario, o.Run.String(), strings.Join(r.spec.Names(), ", "))
	}
	return selected, nil
}

// runScenarios runs the selected scenarios one after the other into the
// report; after an interruption, or with --keep a failed scenario, the
// rest are reported not run.
func (r *run) runScenarios(ctx context.Context, selected []*Scenario) {
	stop := false // --keep: a failed scenario's objects are kept, and the run ends there
	for i, sc := range selected {
		switch {
		case ctx.Err() != nil:
			r.rep.Interrupted = true
			r.rep.Scenarios = append(r.rep.Scenarios, skippedScenario(sc, "not run: interrupted"))
			continue
		case stop:
			r.rep.Scenarios = append(r.rep.Scenarios, skippedScenario(sc, "not run: --keep keeps the objects of the failed scenario"))
			continue
		}
		res := r.scenario(ctx, sc, i == len(selected)-1)
		r.rep.Scenarios = append(r.rep.Scenarios, res)
		if res.Status == StatusInterrupted {
			r.rep.Interrupted = true
		}
		stop = r.o.Keep && res.Status != StatusPassed
	}
}

// errPhaseInterrupted is the error of a phase (build, engine, upload) a
// signal stopped.
var errPhaseInterrupted = errors.New("interrupted: dvp test was stopped (Ctrl-C, SIGTERM or SIGHUP)")

// interruptPrinter reports a phase that ended because the run was
// interrupted as interrupted, whatever error the interruption caused.
type interruptPrinter struct {
	Printer
	ctx context.Context
}

func (p interruptPrinter) PhaseDone(what string, d time.Duration, err error) {
	if err != nil && p.ctx.Err() != nil {
		err = errPhaseInterrupted
	}
	p.Printer.PhaseDone(what, d, err)
}

// prepare builds the plugin, starts or reaches the engine, and uploads.
func (r *run) prepare(ctx context.Context) error {
	p := interruptPrinter{r.o.Printer, ctx}
	t0 := time.Now()
	p.Phase("build " + r.display(r.spec.PluginConfig))
	art, err := r.build(ctx, r.spec.PluginConfig, filepath.Join(r.dir, "artifact.json"))
	p.PhaseDone("build", time.Since(t0), err)
	if err != nil {
		return err
	}
	r.art = art
	t0 = time.Now()
	if r.o.Remote != nil {
		p.Phase("engine " + r.o.Remote.Client.BaseURL().String())
		r.client, r.user, r.pw = r.o.Remote.Client, r.o.Remote.User, r.o.Remote.Password
	} else {
		p.Phase("start a private engine")
		exe := r.o.Executable
		if exe == "" {
			if exe, err = os.Executable(); err != nil {
				p.PhaseDone("engine", time.Since(t0), err)
				return fmt.Errorf("cannot find the dvp binary to run the engine: %v", err)
			}
		}
		var eng *privateEngine
		eng, err = startEngine(ctx, exe, r.dir, r.o.Keep, engineStartTimeout)
		r.mu.Lock()
		r.engine = eng
		r.mu.Unlock()
		if err != nil {
			p.PhaseDone("engine", time.Since(t0), err)
			return err
		}
		newClient := r.o.NewClient
		if newClient == nil {
			newClient = engineclient.New
		}
		r.client, err = newClient(engineclient.Options{Engine: r.engine.URL, UserAgent: "dvp-test/" + r.o.DvpVersion})
		if err != nil {
			p.PhaseDone("engine", time.Since(t0), err)
			return err
		}
		r.user, r.pw = defaultEngineUser, r.engine.Password
	}
	r.rep.Engine = r.client.BaseURL().String()
	p.PhaseDone("engine "+r.rep.Engine, time.Since(t0), nil)
	t0 = time.Now()
	p.Phase("upload " + art.Name)
	if r.o.Remote != nil {
		// A plugin the engine did not have is deleted at the end.
		if err := r.client.Login(ctx, artifact.EngineAPIVersion, r.user, r.pw); err != nil {
			p.PhaseDone("upload "+art.Name, time.Since(t0), engineErr(err))
			return engineErr(err)
		}
		tks, err := r.client.ListToolkits(ctx)
		if err != nil {
			p.PhaseDone("upload "+art.Name, time.Since(t0), engineErr(err))
			return engineErr(err)
		}
		r.newPlugin = true
		for _, tk := range tks {
			if tk.Identifier == art.PluginID {
				r.newPlugin = false
				if err := r.keepsInstalled(tk, filepath.Join(r.dir, "artifact.json")); err != nil {
					p.PhaseDone("upload "+art.Name, time.Since(t0), err)
					return err
				}
			}
		}
	}
	err = r.upload(ctx, filepath.Join(r.dir, "artifact.json"))
	p.PhaseDone("upload "+art.Name, time.Since(t0), err)
	return err
}

// keepsInstalled refuses a run on the engine of -e that would replace the
// build of the plugin installed there (tk) and leave the replacement: the
// run's own build must be that very artifact, and the spec must have no
// upgrade step.
func (r *run) keepsInstalled(tk engineapi.Toolkit, artifactPath string) error {
	data, err := os.ReadFile(artifactPath)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	why := ""
	switch {
	case tk.ArtifactSHA256 != hex.EncodeToString(sum[:]):
		why = "this run's build is another one, and uploading it would replace it"
	case r.spec.hasUpgrade():
		why = "the spec's upgrade steps would replace it"
	default:
		return nil
	}
	return fmt.Errorf("the engine %s already has the plugin %s (build %s, %s): %s, and dvp test leaves the engine of -e as it found it. "+
		"Run dvp test without -e (on a private engine), or delete the plugin from that engine first (dvp toolkit delete %s)",
		r.client.BaseURL(), tk.Identifier, tk.BuildNumber, tk.Reference, why, tk.Reference)
}

// build builds the project of configPath as dvp build does.
func (r *run) build(ctx context.Context, configPath, artifactPath string) (*artifact.Artifact, error) {
	res := build.Build(ctx, build.Options{ConfigPath: configPath, ArtifactPath: artifactPath, DvpVersion: r.o.DvpVersion, Log: r.log})
	if res.Failed() {
		var lines []string
		for _, pr := range res.Problems {
			lines = append(lines, pr.String())
		}
		if len(lines) == 0 {
			lines = append(lines, "the build wrote no artifact")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("the plugin does not build (run dvp build for details):\n%s", strings.Join(lines, "\n"))
	}
	return res.Artifact, nil
}

// upload ships an artifact and waits for its job; a failed upgrade job is
// an error with the job's message.
func (r *run) upload(ctx context.Context, path string) error {
	up := &upload.Client{Engine: r.client}
	res, err := up.Upload(ctx, upload.UploadOptions{User: r.user, Password: r.pw, ArtifactPath: path, Wait: true,
		WaitOptions: upload.WaitOptions{Timeout: DefaultStepTimeout, First: 100 * time.Millisecond, Max: time.Second}})
	if err != nil {
		var ee *engineclient.Error
		if errors.As(err, &ee) && ee.Kind == engineclient.KindJobFailed && res != nil && res.Action != "" {
			if job, jerr := r.client.GetActionJob(context.WithoutCancel(ctx), res.Action); jerr == nil {
				return engineclient.JobFailure(job)
			}
		}
		return err
	}
	return nil
}

// display is a path as the user wrote it, relative to the working
// directory when it is below it.
func (r *run) display(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}

// abort ends the run at once (Options.Abort): the private engine is
// stopped (SIGTERM, then SIGKILL to its process group after a short
// grace), the mount links into its data are removed, and so is the
// run's temporary directory, which holds the engine's data, its log and
// the built artifact. --keep keeps them all.
func (r *run) abort() string {
	if r.o.Keep {
		return fmt.Sprintf("the engine, its data and the objects are kept in %s (--keep)", r.dir)
	}
	r.mu.Lock()
	eng, mounts := r.engine, append([]mountRecord(nil), r.mounts...)
	r.mu.Unlock()
	if eng != nil {
		_ = eng.Stop(abortStopGrace)
		for _, m := range mounts {
			if target, err := os.Readlink(m.path); err == nil && fsutil.Within(eng.DataDir, target) {
				_ = os.Remove(m.path)
			}
		}
	}
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Sprintf("dvp test could not remove its temporary directory %s: %v", r.dir, err)
	}
	if r.o.Remote != nil {
		return fmt.Sprintf("dvp test removed its temporary directory; what the scenarios made on %s is left", r.o.Remote.Client.BaseURL())
	}
	return "dvp test stopped its engine at once and removed its temporary directory, with the engine's data"
}

// keepInfo says what --keep left and how to look at it.
func (r *run) keepInfo() *Kept {
	k := &Kept{Dir: r.dir}
	if r.engine != nil {
		k.Engine, k.Pid, k.DataDir, k.EngineLog = r.engine.URL, r.engine.Pid(), r.engine.DataDir, r.engine.LogPath
		k.PasswordFile = r.engine.PasswordFile
		if r.art != nil {
			k.PluginLogs = filepath.Join(r.engine.DataDir, "plugin-logs", r.art.PluginID)
		}
	} else if r.client != nil {
		k.Engine = r.client.BaseURL().String()
	}
	return k
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// hasUpgrade reports whether a step of the spec uploads another build.
func (s *Spec) hasUpgrade() bool {
	for _, sc := range s.Scenarios {
		for _, st := range sc.Steps {
			if st.Action == ActUpgrade {
				return true
			}
		}
	}
	return false
}
