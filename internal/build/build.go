// Package build is the dvp build pipeline. Build runs the table steps
// (build.go) in one loop, one method of pipeline a step: validate ->
// SDK copy -> generate -> check sources (entry point, go.mod) -> compile ->
// manifest -> package -> baseline (with --baseline) -> write; each step
// reports all its problems, and the pipeline stops after a step with
// errors. Generate (generate.go) is dvp build -g: validation and code
// generation only. docs/build.md describes the pipeline for users,
// docs/architecture.md maps each step to its file.
package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/internal/pycompat"
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
	// Reused: the step took its result from the last build instead of
	// doing its work (docs/build.md, "Unchanged inputs").
	Reused bool `json:"reused,omitempty"`
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
	// UpToDate: the artifact at ArtifactPath already held the bytes of
	// this build, and was left as it was.
	UpToDate bool
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
	defaultSDK := opts.SyncSDK == nil
	if defaultSDK {
		opts.SyncSDK = sdkcopy.SyncSDK
	}
	if opts.ManifestTimeout <= 0 {
		opts.ManifestTimeout = DefaultManifestTimeout
	}
	defer relaxGC()()
	b := &pipeline{ctx: ctx, opts: opts, log: opts.Log, res: &Result{}, defaultSDK: defaultSDK}
	defer b.cleanup()
	for _, s := range steps {
		if s.skip != nil && s.skip(b) {
			continue
		}
		if opts.Step != nil {
			opts.Step(s.name)
		}
		start := time.Now()
		b.reused = false
		goOn := s.run(b)
		d := time.Since(start)
		b.res.Steps = append(b.res.Steps, Step{Name: s.name, Duration: d, Reused: b.reused})
		if b.reused {
			b.log.Debug("build step", "step", s.name, "duration", d.String(), "reused", true)
		} else {
			b.log.Debug("build step", "step", s.name, "duration", d.String())
		}
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
	entryPoint   string // the entryPoint entry was checked for
	goModGo      string
	goCmd        string
	workDir      string      // <root>/.dvp/build, locked
	unlock       func()      // ends the lock of the work directory (cleanup)
	state        *buildState // the record of the last build, nil if none may be used
	defaultSDK   bool        // opts.SyncSDK is sdkcopy.SyncSDK: the SDK copy's stamps may stand for it
	sdk          []pathStamp // the SDK copy's stamps, found up to date (treeStamps)
	reused       bool        // the running step reused a result of the last build
	target       compileJob
	compiling    *compiling // the go build under way
	// inputsChanged: the SDK copy or the generated code was written after
	// go build started.
	inputsChanged bool
	hostBinary    string              // the binary that runs here (the target when the host is linux/amd64)
	sources       packedSources       // listed and compressed while the plugin compiles
	packing       *binaryPacking      // the binary, packed while the manifest is read
	spec          *specWrite          // the artifact written ahead with the recorded manifest
	wroteAhead    bool                // the speculative write was this build's
	bin           *zipfile.PackedFile // the binary, packed
	binaryID      string              // the Go build ID of the compiled plugin
	rm            *protocol.Manifest  // what the compiled plugin registered
	rmJSON        []byte              // its encoding, for the record of the build
	upToDate      bool                // the artifact on disk is this build's
	key           string              // artifactKey of this build
	gen           *generatedRecord    // what generate made (or reused), nil after an error
	checked       *checkRecord        // what validate found (or reused), nil after an error
	entries       []zipfile.File
	a             *artifact.Artifact
	doc           []byte // a's encoding (encodeArtifact)
}

type packedSources struct {
	files  []zipfile.File
	sums   []sourceSum
	packed map[string]*zipfile.PackedFile // nil: not packed (yet)
	ps     diag.List
	onDisk string     // the sha256 of the artifact the last build wrote, if it is still there
	stamp  *fileStamp // its stamp now
}

func (b *pipeline) cleanup() {
	b.stopCompile()
	b.abandonSpeculation()
	if b.packing != nil {
		if p, err := b.packing.wait(); err == nil {
			p.Close()
		}
	}
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
// error. In a project built before (its work directory exists), go build
// starts before the checks, with the values of plugin_config.yml read
// without them (config.Peek, or its values kept by the last build:
// peekConfig): it needs only srcDir, and runs while the
// checks do; a project that fails them stops it. The checks of files that
// the last build checked are reused (loadProject).
func (b *pipeline) validate() bool {
	if pc, save := peekConfig(b.opts.ConfigPath); pc != nil && pc.SrcPath != "" && workDirExists(pc.Dir) {
		// A lock that fails here is reported after the checks, below.
		if b.lockWorkDir(pc.Dir) == nil {
			b.startEarly(pc)
			b.state = loadState(b.workDir) // after the start: go build needs none of it
			if save != nil {
				save()
			}
		}
	}
	b.p = b.loadProject()
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
	if b.workDir == "" {
		if pr := b.lockWorkDir(b.p.Config.Dir); pr != nil {
			return b.fail(*pr)
		}
		b.startEarly(b.p.Config)
		b.state = loadState(b.workDir)
	}
	return true
}

// lockWorkDir creates the project's work directory and takes its lock:
// builds of one project take turns from here, as they share it (the
// compiled plugin, the record of the last build: loadState reads it once
// the lock is held). It returns the problem that prevents it.
func (b *pipeline) lockWorkDir(root string) *diag.Problem {
	dir, err := workDir(root)
	if err != nil {
		pr := diag.Errorf(filepath.Join(root, filepath.FromSlash(WorkDir)), 0, 0, "cannot create dvp build's work directory: %v", err)
		return &pr
	}
	unlock, err := lockWorkDir(dir)
	if err != nil {
		pr := diag.Errorf(filepath.Join(dir, lockName), 0, 0, "cannot lock dvp build's work directory: %v", err)
		return &pr
	}
	b.workDir, b.unlock = dir, unlock
	return nil
}

// startEarly starts go build of the sources of cfg, while the next steps
// check the project, the SDK copy and the generated code (compile waits
// for it, or starts it again), if the source checks of step 4 pass
// already (else it would run on sources that the build refuses). It does
// not update go.mod or go.sum (-mod=readonly): a build that fails later
// leaves them as they were.
func (b *pipeline) startEarly(cfg *config.Config) {
	if goCmd, gp := goTool(b.opts.GoCommand, ""); gp == nil {
		if entry, eps := checkEntryPoint(cfg); !eps.HasErrors() {
			if v, mps := checkGoMod(cfg.SrcPath); !mps.HasErrors() {
				b.goCmd, b.goModGo = goCmd, v
				b.entry, b.entryPoint = entry, cfg.EntryPoint
				b.startCompile(cfg.SrcPath, true)
			}
		}
	}
}

// syncSDK keeps the project's SDK copy in step with this dvp. When every
// file and directory of the copy has the stamp it had when a build found
// it up to date, it still is, and its files are not read again (comparing
// them with the SDK embedded in dvp was half of a no-change build's own
// work).
func (b *pipeline) syncSDK() bool {
	dir := b.p.Config.Dir
	sdkDir := filepath.Join(dir, filepath.FromSlash(sdkcopy.Dir))
	if st := b.state; b.defaultSDK && st != nil && len(st.SDK) > 0 {
		if now := treeStamps(sdkDir, math.MaxInt64); now != nil && slices.Equal(now, st.SDK) {
			b.reused, b.sdk = true, st.SDK
			return true
		}
	}
	clock := fsClock(filepath.Join(b.workDir, lockName))
	changed, err := b.opts.SyncSDK(dir)
	if err != nil {
		return b.fail(diag.Errorf(sdkDir, 0, 0, "cannot update the project's copy of the SDK: %v", err))
	}
	if changed {
		b.inputsChanged = true
		b.log.Info("Updated the SDK copy in .dvp/sdk to the SDK of this dvp.")
	}
	if b.defaultSDK {
		b.sdk = treeStamps(sdkDir, clock)
	}
	return true
}

// generate writes the Go types of schema.json (only when stale). When the
// generator's inputs (generateKey) are those of the last build and the
// files it wrote are still there, unchanged, its work and warnings are
// reused.
func (b *pipeline) generate() bool {
	key, kerr := generateKey(b.p.Schema.Definitions, codegenOptions(b.p.Config, b.p.Schema))
	dir := filepath.Join(b.p.Config.SrcPath, GeneratedDirName)
	if st := b.state; kerr == nil && st != nil && st.Generated != nil && st.Generated.Key == key && generatedOnDisk(dir, st.Generated.Files) {
		b.reused = true
		b.gen = st.Generated
		return b.add(st.Generated.Warnings...)
	}
	_, _, stale, sums, ps := generateCode(b.p, false)
	if stale {
		b.inputsChanged = true // rewritten
	}
	if kerr == nil && !ps.HasErrors() {
		b.gen = &generatedRecord{Key: key, Files: sums, Warnings: append(diag.List{}, ps...)}
	}
	return b.add(ps...)
}

// checkSources checks the entry point and the Go toolchain before
// compiling.
func (b *pipeline) checkSources() bool {
	cfg := b.p.Config
	if b.entry == nil || b.entryPoint != cfg.EntryPoint || b.entry.srcDir != cfg.SrcPath {
		// Not checked before go build started (or with other values).
		entry, eps := checkEntryPoint(cfg)
		b.entry = entry
		b.res.Problems = append(b.res.Problems, eps...)
	}
	goModGo, mps := checkGoMod(cfg.SrcPath)
	b.goModGo = goModGo
	b.res.Problems = append(b.res.Problems, mps...)
	goCmd, gp := goTool(b.opts.GoCommand, goModGo)
	b.goCmd = goCmd
	if gp != nil {
		b.res.Problems = append(b.res.Problems, *gp)
	}
	return !b.res.Problems.HasErrors()
}

// compiling is a go build (or two: host and target) under way.
type compiling struct {
	cancel context.CancelFunc
	done   chan compiled
	early  bool // started before the checks, with -mod=readonly
}

type compiled struct {
	goVersion string
	problems  diag.List
}

// startCompile starts go build of the plugin in the background: once for
// linux/amd64 when that is the host (the same binary gives the manifest),
// else for the host and the target at once. The binaries go to stable
// paths in the project's work directory (WorkDir) and keep Go's build ID,
// so that go build skips the link when nothing changed.
func (b *pipeline) startCompile(srcDir string, early bool) {
	b.target = compileJob{goCmd: b.goCmd, srcDir: srcDir, out: filepath.Join(b.workDir, artifact.BinaryEntry), goos: TargetOS, arch: TargetArch, goModGo: b.goModGo, readonly: early}
	b.hostBinary = b.target.out
	ctx, cancel := context.WithCancel(b.ctx)
	c := &compiling{cancel: cancel, done: make(chan compiled, 1), early: early}
	b.compiling = c
	b.log.Debug("go build started", "dir", srcDir, "early", early)
	target := b.target
	// Started here, waited for on another goroutine: go build is running
	// before the next steps take the cores.
	tr, tps := target.start(ctx)
	if hostIsTarget() {
		go func() {
			if tps != nil {
				c.done <- compiled{problems: tps}
				return
			}
			keepCompiled(target.out)
			v, ps := tr.wait()
			c.done <- compiled{v, ps}
		}()
		return
	}
	host := b.target
	host.out = filepath.Join(b.workDir, "plugin-host")
	host.goos, host.arch = goruntimeGOOS(), goruntimeGOARCH()
	b.hostBinary = host.out
	hr, hps := host.start(ctx)
	go func() {
		var v string
		var ps diag.List
		var wg sync.WaitGroup
		if hps == nil {
			wg.Add(1)
			go func() { defer wg.Done(); _, hps = hr.wait() }()
		}
		if tps == nil {
			v, ps = tr.wait()
		} else {
			ps = tps
		}
		wg.Wait()
		if len(ps) == 0 {
			ps = hps
		}
		c.done <- compiled{v, ps}
	}()
}

// mentionsModFiles reports whether a failed go build speaks of modules,
// go.mod or go.sum: what -mod=mod might have fixed by updating them (a
// missing requirement, a missing go.sum entry, ...). Compiler errors in
// the plugin's code do not.
func mentionsModFiles(ps diag.List) bool {
	for _, p := range ps {
		text := p.File + " " + p.Message + " " + p.Hint
		for _, w := range []string{"module", "go.mod", "go.sum", "go get", "go mod", "-mod="} {
			if strings.Contains(text, w) {
				return true
			}
		}
	}
	return false
}

// stopCompile ends a go build under way, if any, and waits for it.
func (b *pipeline) stopCompile() {
	if c := b.compiling; c != nil {
		c.cancel()
		<-c.done
		b.compiling = nil
	}
}

// compile waits for the plugin's go build. That started right after
// validation (speculative: the SDK copy and the generated code are
// checked meanwhile); if either step changed a file, or the toolchain
// checks found another go command, it is stopped and started again. The
// sources are listed and hashed (compressed if they changed) meanwhile.
func (b *pipeline) compile() bool {
	cfg := b.p.Config
	if b.compiling == nil || b.inputsChanged || b.target.goCmd != b.goCmd || b.target.srcDir != cfg.SrcPath {
		b.stopCompile()
		b.startCompile(cfg.SrcPath, false)
	}
	b.target.goModGo = b.goModGo
	sourcesCh := make(chan packedSources, 1)
	go func() {
		s := b.readSources()
		if s.packed != nil {
			// The sources changed: an artifact will be written, with
			// buffers made now rather than after go build.
			warmPipeBuffers()
		}
		sourcesCh <- s
	}()
	b.log.Info("Compiling the plugin", "dir", cfg.SrcPath, "target", artifact.BinaryTarget)
	early := b.compiling.early
	r := <-b.compiling.done
	b.compiling = nil
	if early && len(r.problems) > 0 && b.ctx.Err() == nil && mentionsModFiles(r.problems) {
		// go.mod or go.sum needs an update, which the early build may not
		// make: the build with the usual flags makes it (or says why not).
		b.startCompile(cfg.SrcPath, false)
		r = <-b.compiling.done
		b.compiling = nil
	}
	b.res.GoVersion = r.goVersion
	b.sources = <-sourcesCh
	if len(r.problems) > 0 {
		return b.fail(r.problems...)
	}
	if !b.target.readonly && modFilesChanged(cfg.SrcPath, b.sources.sums) {
		// go build updated go.mod or go.sum after they were read: the
		// artifact holds them as the plugin was compiled with them.
		b.sources = b.readSources()
	}
	return true
}

// readSources lists and hashes the sources, and reads the artifact's
// stamp. Sources that the last build packed into the artifact are only
// hashed: they are packed later if the artifact must be written.
func (b *pipeline) readSources() packedSources {
	skip := map[string]bool{b.artifactPath: true}
	st, src := b.state, b.p.Config.SrcPath
	var known []sourceSum
	if st != nil {
		known = st.Sources
	}
	ps := readSources(src, skip, st == nil, known)
	if st != nil && st.ArtifactPath == b.artifactPath {
		// Hashed unless it has the stamp it had when written.
		ps.stamp = statStamp(b.artifactPath)
		if ps.stamp != nil && st.ArtifactStamp != nil && *ps.stamp == *st.ArtifactStamp {
			ps.onDisk = st.ArtifactSHA256
		} else {
			ps.onDisk, _ = fileSHA256(b.artifactPath)
		}
	}
	return ps
}

// modFilesChanged reports whether go.mod or go.sum in srcDir differ from
// their sums in sums (one is there that was not, or the reverse).
func modFilesChanged(srcDir string, sums []sourceSum) bool {
	for _, name := range []string{"go.mod", "go.sum"} {
		want := ""
		for _, s := range sums {
			if s.Name == SourcesPrefix+name {
				want = s.SHA256
			}
		}
		got, err := fileSHA256(filepath.Join(srcDir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return true // read again: readSources reports it
		}
		if got != want {
			return true
		}
	}
	return false
}

// readManifest reads the manifest from the compiled plugin and checks it.
// The binary is packed for the artifact (read, hashed) meanwhile; the
// channel is buffered, so an early return leaks nothing. When go build did
// not link (the binary has the Go build ID of the last build's), the
// manifest and the sha256 recorded by the last build are reused, and the
// binary is read only if the artifact must be written: this trusts the
// build ID as go build's own up-to-date check does (its last part is the
// hash of the binary's content, computed by go build).
func (b *pipeline) readManifest() bool {
	cfg := b.p.Config
	b.binaryID, _ = readBuildID(b.target.out)
	if st := b.state; st != nil && b.binaryID != "" && b.binaryID == st.BinaryBuildID {
		var rm protocol.Manifest
		if json.Unmarshal(st.Manifest, &rm) == nil {
			b.reused = true
			b.rm, b.rmJSON, b.res.BinarySHA256 = &rm, st.Manifest, st.BinarySHA256
			m, ps := checkManifest(&rm, strings.ToUpper(cfg.PluginType), b.entry)
			b.res.Manifest = m
			return b.add(ps...)
		}
	}
	// The plugin's start is the longest of what follows go build: it
	// starts first, and the binary is packed and the artifact written
	// ahead while it runs.
	type manifestRead struct {
		rm  *protocol.Manifest
		err error
	}
	read := make(chan manifestRead, 1)
	go func(path string) {
		mctx, cancel := context.WithTimeout(b.ctx, b.opts.ManifestTimeout)
		defer cancel()
		rm, err := pluginhost.ReadManifest(mctx, path)
		read <- manifestRead{rm, err}
	}(b.hostBinary)
	b.startPacking()
	b.speculate()
	r := <-read
	rm, err := r.rm, r.err
	var me *pluginhost.ManifestError
	if err != nil && !(errors.As(err, &me) && rm != nil) {
		pr := diag.Errorf(entryFile(b.entry, cfg.SrcPath), 0, 0, "cannot read the plugin's manifest: %s", strings.TrimSpace(err.Error()))
		pr.Hint = fmt.Sprintf("the entry point's main must call %s.Main() (or runtime.Main) before anything else writes to stdout", cfg.EntrySymbol())
		return b.fail(pr)
	}
	b.rm = rm
	b.rmJSON, _ = json.Marshal(rm)
	m, ps := checkManifest(rm, strings.ToUpper(cfg.PluginType), b.entry)
	b.res.Manifest = m
	return b.add(ps...)
}

// binaryPacking is the binary being read and packed in the background.
type binaryPacking struct {
	done chan struct{}
	p    *zipfile.PackedFile
	err  error
}

func (p *binaryPacking) wait() (*zipfile.PackedFile, error) {
	<-p.done
	return p.p, p.err
}

// startPacking reads and packs the binary for the artifact in the
// background (b.packing); cleanup closes it.
func (b *pipeline) startPacking() {
	pk := &binaryPacking{done: make(chan struct{})}
	b.packing = pk
	go func(path string) {
		defer close(pk.done)
		pk.p, pk.err = packBinary(path)
	}(b.target.out)
}

// pack assembles the artifact and the sourceCode ZIP's entries, unless
// the artifact on disk is already this build's: same key (artifactKey),
// and the file still has the sha256 the last build wrote.
func (b *pipeline) pack() bool {
	cfg := b.p.Config
	b.res.Problems = append(b.res.Problems, b.sources.ps...)
	if b.packing != nil {
		bin, err := b.packing.wait()
		if err != nil {
			return b.fail(diag.Errorf(b.target.out, 0, 0, "cannot read the compiled plugin: %v", err))
		}
		b.bin = bin
		b.res.BinarySHA256 = bin.SHA256()
	}
	rec := artifact.BuildRecord{
		GoVersion:    b.res.GoVersion,
		Target:       artifact.BinaryTarget,
		SDKVersion:   sdkVersion(b.rm),
		DvpVersion:   b.opts.DvpVersion,
		BinarySHA256: b.res.BinarySHA256,
	}
	a, aps := newArtifact(cfg, b.p.Schema, b.res.Manifest)
	b.a = a
	if !b.add(aps...) {
		return false
	}
	doc, err := encodeArtifact(a)
	if err != nil {
		return b.fail(diag.Errorf(cfg.Path, 0, 0, "cannot encode the artifact: %v", err))
	}
	b.doc = doc
	key, err := artifactKey(doc, rec, b.sources.sums)
	if st := b.state; err == nil && st != nil && b.sources.packed == nil && key == st.ArtifactKey &&
		b.artifactPath == st.ArtifactPath && b.sources.onDisk != "" && b.sources.onDisk == st.ArtifactSHA256 {
		b.key, b.upToDate, b.reused = key, true, true
		b.res.Sources = sortedNames(b.sources.files)
		return true
	}
	if b.bin == nil {
		// The binary of the last build, but the artifact must be written.
		b.startPacking()
		bin, err := b.packing.wait()
		if err != nil {
			return b.fail(diag.Errorf(b.target.out, 0, 0, "cannot read the compiled plugin: %v", err))
		}
		b.bin = bin
		if b.res.BinarySHA256 != bin.SHA256() {
			// Not the bytes the build ID promised: the recorded manifest
			// may not be this binary's either.
			os.Remove(b.target.out)
			return b.fail(diag.Errorf(b.target.out, 0, 0, "the compiled plugin was changed after go build wrote it (its build ID is that of other bytes), so it was removed: run dvp build again"))
		}
	}
	if b.sources.packed == nil {
		// Unchanged sources, but something else changed: pack them now.
		srcs := readSources(cfg.SrcPath, map[string]bool{b.artifactPath: true}, true, nil)
		if !b.add(srcs.ps...) {
			return false
		}
		b.sources.files, b.sources.sums, b.sources.packed = srcs.files, srcs.sums, srcs.packed
		key, err = artifactKey(doc, rec, b.sources.sums)
	}
	if err == nil {
		b.key = key
	}
	sources := b.sources.files
	b.res.Sources = sortedNames(sources)
	entries, err := zipEntries(rec, sources, b.sources.packed)
	if err != nil {
		return b.fail(diag.Errorf(cfg.SrcPath, 0, 0, "cannot package the plugin: %v", err))
	}
	b.entries = entries
	b.sources.packed[artifact.BinaryEntry] = b.bin
	return true
}

// baseline checks upgrade safety against the released build.
func (b *pipeline) baseline() bool {
	return b.add(checkBaseline(b.opts.BaselinePath, b.a, b.rm.Migrations, b.p.Config.Path)...)
}

// write writes the artifact atomically (unless it is up to date), then
// the record of this build.
func (b *pipeline) write() bool {
	if b.upToDate {
		st := b.state
		b.reused = true
		b.res.SHA256, b.res.ArtifactPath, b.res.Artifact, b.res.UpToDate = st.ArtifactSHA256, b.artifactPath, b.a, true
		b.log.Debug("artifact up to date", "path", b.artifactPath, "sha256", b.res.SHA256)
		restamp := b.sources.stamp != nil && (st.ArtifactStamp == nil || *b.sources.stamp != *st.ArtifactStamp)
		if b.gen != st.Generated || b.checked != st.Checked || restamp || !slices.Equal(b.sdk, st.SDK) {
			// Same bytes, another stamp (touched, copied back), code
			// generated or files checked again, or the SDK copy compared
			// again: the record says so for the next build.
			st.ArtifactStamp, st.Generated, st.Checked, st.SDK = b.sources.stamp, b.gen, b.checked, b.sdk
			b.saveState(st)
		}
		return true
	}
	sum, err := b.finishSpeculation()
	if !b.wroteAhead {
		sum, err = writeArtifact(b.artifactPath, b.workDir, b.doc, b.entries, b.sources.packed, nil)
	}
	if err != nil {
		// dvp's words and errno form (docs/compatibility.md, "The build").
		return b.fail(diag.Errorf(b.artifactPath, 0, 0, "Failed to write upload_artifact file to %s. %s", b.artifactPath, pycompat.OSErrorText(err)))
	}
	b.res.SHA256 = sum
	b.res.ArtifactPath = b.artifactPath
	b.res.Artifact = b.a
	if b.key != "" {
		b.saveState(&buildState{BinaryBuildID: b.binaryID, BinarySHA256: b.res.BinarySHA256, Manifest: b.rmJSON,
			Sources: b.sources.sums, ArtifactPath: b.artifactPath, ArtifactKey: b.key, ArtifactSHA256: sum,
			ArtifactStamp: statStamp(b.artifactPath), Generated: b.gen, Checked: b.checked, SDK: b.sdk})
	}
	// The caller reports the result (dvp build prints it once, on stdout).
	b.log.Debug("artifact written", "path", b.artifactPath, "sha256", sum)
	return true
}

// saveState records this build for the next one. It is only a shortcut:
// a failure costs the next build time, nothing else.
func (b *pipeline) saveState(st *buildState) {
	if err := saveState(b.workDir, st); err != nil {
		b.log.Debug("cannot record the build", "dir", b.workDir, "error", err)
	}
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
