package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/internal/sdkcopy"
	"github.com/dvpkit/dvp/internal/zipfile"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// DefaultManifestTimeout bounds the run of the plugin in manifest mode.
const DefaultManifestTimeout = 30 * time.Second

// Options are the inputs of a full build (dvp build).
type Options struct {
	ConfigPath   string
	ArtifactPath string
	// BaselinePath, when set, is the artifact of the released build that
	// this one must upgrade safely (dvp build --baseline).
	BaselinePath string
	// DvpVersion goes into the build record.
	DvpVersion string
	// GoCommand is the go command to use; "" finds "go" on PATH.
	GoCommand string
	// Log receives progress at Info and details (each step's duration) at
	// Debug; nil discards.
	Log *slog.Logger
	// SyncSDK materialises the SDK that this dvp embeds into a project
	// (<root>/.dvp/sdk), reporting whether it changed anything, so that a
	// project always builds against the SDK of the dvp that builds it. Nil:
	// sdkcopy.SyncSDK.
	SyncSDK func(root string) (changed bool, err error)
	// ManifestTimeout bounds the run of the plugin in manifest mode; 0:
	// DefaultManifestTimeout.
	ManifestTimeout time.Duration
	// Step, if set, is told the name of each step as it starts (dvp build
	// shows it as progress on a terminal).
	Step func(name string)
}

// Step is the duration of one step of the pipeline.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
}

// Result is what a build did.
type Result struct {
	// Problems are the warnings, and the errors that failed the build.
	Problems     diag.List
	ArtifactPath string                   // written only when the build succeeded
	SHA256       string                   // hex sha256 of the artifact file
	Manifest     *artifact.PluginManifest // nil when the plugin did not compile
	Artifact     *artifact.Artifact       // nil unless the build succeeded; SourceCode is left empty (it is in the file)
	BinarySHA256 string
	GoVersion    string
	Sources      []string // entry names of the sources in the ZIP
	Steps        []Step   // the steps that ran, in order, each timed
}

// Failed reports whether the build failed (no artifact written).
func (r *Result) Failed() bool { return r.Problems.HasErrors() || r.ArtifactPath == "" }

// step is one step of the pipeline. run does its work on the build's state
// and reports whether the build goes on (false: it stopped, and the
// problems say why); skip, when set, leaves the step out.
type step struct {
	name string
	skip func(*pipeline) bool
	run  func(*pipeline) bool
}

// steps is the pipeline of docs/build.md, in order.
var steps = []step{
	{name: "validate", run: (*pipeline).validate},
	{name: "sdk", run: (*pipeline).syncSDK},
	{name: "generate", run: (*pipeline).generate},
	{name: "check sources", run: (*pipeline).checkSources},
	{name: "compile", run: (*pipeline).compile},
	{name: "manifest", run: (*pipeline).readManifest},
	{name: "package", run: (*pipeline).pack},
	{name: "baseline", skip: func(b *pipeline) bool { return b.opts.BaselinePath == "" }, run: (*pipeline).baseline},
	{name: "write", run: (*pipeline).write},
}

// Build runs the pipeline of docs/build.md: validate (every problem is
// fatal) -> SDK copy -> generate -> entry point -> go build -> manifest ->
// checks -> package -> write. The artifact is written atomically, only
// when there is no error: on any failure a previous artifact is untouched.
// Each step is timed (Result.Steps, and a Debug record in opts.Log).
func Build(ctx context.Context, opts Options) *Result {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SyncSDK == nil {
		opts.SyncSDK = sdkcopy.SyncSDK
	}
	if opts.ManifestTimeout <= 0 {
		opts.ManifestTimeout = DefaultManifestTimeout
	}
	b := &pipeline{ctx: ctx, opts: opts, log: opts.Log, res: &Result{}}
	defer b.cleanup()
	for _, s := range steps {
		if s.skip != nil && s.skip(b) {
			continue
		}
		if opts.Step != nil {
			opts.Step(s.name)
		}
		start := time.Now()
		goOn := s.run(b)
		d := time.Since(start)
		b.res.Steps = append(b.res.Steps, Step{Name: s.name, Duration: d})
		b.log.Debug("build step", "step", s.name, "duration", d.String())
		if !goOn {
			break
		}
	}
	return b.res
}

// pipeline is the state of one build, handed from step to step.
type pipeline struct {
	ctx  context.Context
	opts Options
	log  *slog.Logger
	res  *Result

	p            *project.Project
	artifactPath string
	entry        *entryInfo
	goModGo      string
	goCmd        string
	workDir      string // <root>/.dvp/build, locked
	unlock       func() // ends the lock of the work directory (cleanup)
	target       compileJob
	hostBinary   string             // the binary that runs here (the target when the host is linux/amd64)
	sources      packedSources      // listed and compressed while the plugin compiles
	packing      chan packedBinary  // the binary, packed while the manifest is read
	rm           *protocol.Manifest // what the compiled plugin registered
	entries      []zipfile.File
	a            *artifact.Artifact
}

type packedSources struct {
	files  []zipfile.File
	packed map[string]*zipfile.PackedFile
	ps     diag.List
}

type packedBinary struct {
	p   *zipfile.PackedFile
	err error
}

func (b *pipeline) cleanup() {
	if b.unlock != nil {
		b.unlock()
	}
}

// add records problems and reports whether the build goes on (no error
// so far).
func (b *pipeline) add(ps ...diag.Problem) bool {
	b.res.Problems = append(b.res.Problems, ps...)
	return !b.res.Problems.HasErrors()
}

// fail records problems that stop the build.
func (b *pipeline) fail(ps ...diag.Problem) bool {
	b.res.Problems = append(b.res.Problems, ps...)
	return false
}

// validate loads plugin_config.yml and schema.json: every problem is an
// error.
func (b *pipeline) validate() bool {
	b.p = project.Load(b.opts.ConfigPath)
	b.res.Problems = append(b.res.Problems, b.p.Problems...)
	if !b.p.Valid() || b.p.Config == nil || b.p.Schema == nil || b.p.Config.SrcPath == "" {
		if !b.res.Problems.HasErrors() {
			return b.fail(diag.Errorf(b.opts.ConfigPath, 0, 0, "the project could not be loaded"))
		}
		return false
	}
	artifactPath, err := filepath.Abs(b.opts.ArtifactPath)
	if err != nil {
		return b.fail(diag.Errorf(b.opts.ArtifactPath, 0, 0, "invalid artifact path: %v", err))
	}
	b.artifactPath = artifactPath
	// Builds of one project take turns from here: they share the work
	// directory (the compiled plugin, the record of the last build).
	dir, err := workDir(b.p.Config.Dir)
	if err != nil {
		return b.fail(diag.Errorf(filepath.Join(b.p.Config.Dir, filepath.FromSlash(WorkDir)), 0, 0, "cannot create dvp build's work directory: %v", err))
	}
	unlock, err := lockWorkDir(dir)
	if err != nil {
		return b.fail(diag.Errorf(filepath.Join(dir, lockName), 0, 0, "cannot lock dvp build's work directory: %v", err))
	}
	b.workDir, b.unlock = dir, unlock
	return true
}

// syncSDK keeps the project's SDK copy in step with this dvp.
func (b *pipeline) syncSDK() bool {
	dir := b.p.Config.Dir
	changed, err := b.opts.SyncSDK(dir)
	if err != nil {
		return b.fail(diag.Errorf(filepath.Join(dir, ".dvp", "sdk"), 0, 0, "cannot update the project's copy of the SDK: %v", err))
	}
	if changed {
		b.log.Info("Updated the SDK copy in .dvp/sdk to the SDK of this dvp.")
	}
	return true
}

// generate writes the Go types of schema.json (only when stale).
func (b *pipeline) generate() bool {
	_, _, _, ps := generateCode(b.p, false)
	return b.add(ps...)
}

// checkSources checks the entry point and the Go toolchain before
// compiling.
func (b *pipeline) checkSources() bool {
	cfg := b.p.Config
	entry, eps := checkEntryPoint(cfg)
	b.entry = entry
	b.res.Problems = append(b.res.Problems, eps...)
	goModGo, mps := checkGoMod(cfg.SrcPath)
	b.goModGo = goModGo
	b.res.Problems = append(b.res.Problems, mps...)
	goCmd, gp := goTool(b.opts.GoCommand)
	b.goCmd = goCmd
	if gp != nil {
		b.res.Problems = append(b.res.Problems, *gp)
	}
	return !b.res.Problems.HasErrors()
}

// compile builds the plugin: once for linux/amd64 when that is the host
// (the same binary gives the manifest), else for the host and the target
// at once. The binaries go to stable paths in the project's work directory
// (WorkDir) and keep Go's build ID, so that go build skips the link when
// nothing changed. The sources are listed and compressed meanwhile.
func (b *pipeline) compile() bool {
	cfg := b.p.Config
	dir := b.workDir
	b.target = compileJob{goCmd: b.goCmd, srcDir: cfg.SrcPath, out: filepath.Join(dir, artifact.BinaryEntry), goos: TargetOS, arch: TargetArch, goModGo: b.goModGo}
	b.hostBinary = b.target.out
	sourcesCh := make(chan packedSources, 1)
	go func() {
		files, packed, ps := packSources(cfg.SrcPath, map[string]bool{b.artifactPath: true})
		sourcesCh <- packedSources{files, packed, ps}
	}()
	b.log.Info("Compiling the plugin", "dir", cfg.SrcPath, "target", artifact.BinaryTarget)
	var goVersion string
	var cps diag.List
	if hostIsTarget() {
		goVersion, cps = b.target.run(b.ctx)
	} else {
		host := b.target
		host.out = filepath.Join(dir, "plugin-host")
		host.goos, host.arch = goruntimeGOOS(), goruntimeGOARCH()
		b.hostBinary = host.out
		var wg sync.WaitGroup
		var hps diag.List
		wg.Add(1)
		go func() { defer wg.Done(); _, hps = host.run(b.ctx) }()
		goVersion, cps = b.target.run(b.ctx)
		wg.Wait()
		if len(cps) == 0 {
			cps = hps
		}
	}
	b.res.GoVersion = goVersion
	b.sources = <-sourcesCh
	if len(cps) > 0 {
		return b.fail(cps...)
	}
	return true
}

// readManifest reads the manifest from the compiled plugin and checks it.
// The binary is packed for the artifact (read, hashed) meanwhile; the
// channel is buffered, so an early return leaks nothing.
func (b *pipeline) readManifest() bool {
	cfg := b.p.Config
	b.packing = make(chan packedBinary, 1)
	go func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.packing <- packedBinary{nil, err}
			return
		}
		p, err := zipfile.Pack(data, binaryLevel)
		b.packing <- packedBinary{p, err}
	}(b.target.out)
	mctx, cancel := context.WithTimeout(b.ctx, b.opts.ManifestTimeout)
	rm, err := pluginhost.ReadManifest(mctx, b.hostBinary)
	cancel()
	var me *pluginhost.ManifestError
	if err != nil && !(errors.As(err, &me) && rm != nil) {
		pr := diag.Errorf(entryFile(b.entry, cfg.SrcPath), 0, 0, "cannot read the plugin's manifest: %s", strings.TrimSpace(err.Error()))
		pr.Hint = fmt.Sprintf("the entry point's main must call %s.Main() (or runtime.Main) before anything else writes to stdout", cfg.EntrySymbol())
		return b.fail(pr)
	}
	b.rm = rm
	m, ps := checkManifest(rm, strings.ToUpper(cfg.PluginType), b.entry)
	b.res.Manifest = m
	return b.add(ps...)
}

// pack assembles the sourceCode ZIP's entries and the artifact.
func (b *pipeline) pack() bool {
	cfg := b.p.Config
	sources := b.sources.files
	b.res.Problems = append(b.res.Problems, b.sources.ps...)
	pk := <-b.packing
	if pk.err != nil {
		return b.fail(diag.Errorf(b.target.out, 0, 0, "cannot read the compiled plugin: %v", pk.err))
	}
	bin := pk.p
	binSum := bin.SHA256()
	b.res.BinarySHA256 = binSum
	b.res.Sources = sortedNames(sources)
	rec := artifact.BuildRecord{
		GoVersion:    b.res.GoVersion,
		Target:       artifact.BinaryTarget,
		SDKVersion:   sdkVersion(b.rm),
		DvpVersion:   b.opts.DvpVersion,
		BinarySHA256: binSum,
	}
	entries, err := zipEntries(rec, sources)
	if err != nil {
		return b.fail(diag.Errorf(cfg.SrcPath, 0, 0, "cannot package the plugin: %v", err))
	}
	b.entries = entries
	b.sources.packed[artifact.BinaryEntry] = bin
	a, aps := newArtifact(cfg, b.p.Schema, b.res.Manifest)
	b.a = a
	return b.add(aps...)
}

// baseline checks upgrade safety against the released build.
func (b *pipeline) baseline() bool {
	return b.add(checkBaseline(b.opts.BaselinePath, b.a, b.rm.Migrations, b.p.Config.Path)...)
}

// write writes the artifact atomically.
func (b *pipeline) write() bool {
	sum, err := writeArtifact(b.artifactPath, b.a, b.entries, b.sources.packed)
	if err != nil {
		return b.fail(diag.Errorf(b.artifactPath, 0, 0, "Failed to write upload_artifact file to %s: %v", b.artifactPath, unwrapPathError(err)))
	}
	b.res.SHA256 = sum
	b.res.ArtifactPath = b.artifactPath
	b.res.Artifact = b.a
	// The caller reports the result (dvp build prints it once, on stdout).
	b.log.Debug("artifact written", "path", b.artifactPath, "sha256", sum)
	return true
}

func entryFile(e *entryInfo, srcDir string) string {
	if e != nil {
		return e.File
	}
	return srcDir
}

func sdkVersion(m *protocol.Manifest) string {
	if m.SDKVersion != "" {
		return m.SDKVersion
	}
	return sdk.Version
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
