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

// SyncSDK materialises the SDK that this dvp embeds into a project
// (<root>/.dvp/sdk), reporting whether it changed anything. The build calls
// it before compiling, so that a project always builds against the SDK of
// the dvp that builds it. Nil leaves the project's SDK copy alone.
var SyncSDK = sdkcopy.SyncSDK

// ManifestTimeout bounds the run of the plugin in manifest mode.
var ManifestTimeout = 30 * time.Second

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
	// Log receives progress at Info and details at Debug; nil discards.
	Log *slog.Logger
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
	Steps        []Step
}

// Failed reports whether the build failed (no artifact written).
func (r *Result) Failed() bool { return r.Problems.HasErrors() || r.ArtifactPath == "" }

func (r *Result) step(name string, start time.Time) {
	r.Steps = append(r.Steps, Step{Name: name, Duration: time.Since(start)})
}

// Build runs the pipeline of docs/build.md: validate (every problem is
// fatal) -> SDK copy -> generate -> entry point -> go build -> manifest ->
// checks -> package -> write. The artifact is written atomically, only
// when there is no error: on any failure a previous artifact is untouched.
func Build(ctx context.Context, opts Options) *Result {
	res := &Result{}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fail := func(ps ...diag.Problem) *Result {
		res.Problems = append(res.Problems, ps...)
		return res
	}

	// 1. Validate plugin_config.yml and schema.json: errors are fatal.
	t := time.Now()
	p := project.Load(opts.ConfigPath)
	res.Problems = append(res.Problems, p.Problems...)
	res.step("validate", t)
	if !p.Valid() || p.Config == nil || p.Schema == nil || p.Config.SrcPath == "" {
		if !res.Problems.HasErrors() {
			return fail(diag.Errorf(opts.ConfigPath, 0, 0, "the project could not be loaded"))
		}
		return res
	}
	cfg, sch := p.Config, p.Schema
	artifactPath, err := filepath.Abs(opts.ArtifactPath)
	if err != nil {
		return fail(diag.Errorf(opts.ArtifactPath, 0, 0, "invalid artifact path: %v", err))
	}

	// 2. Keep the project's SDK copy in step with this dvp.
	if SyncSDK != nil {
		t = time.Now()
		changed, err := SyncSDK(cfg.Dir)
		if err != nil {
			return fail(diag.Errorf(filepath.Join(cfg.Dir, ".dvp", "sdk"), 0, 0, "cannot update the project's copy of the SDK: %v", err))
		}
		if changed {
			log.Info("Updated the SDK copy in .dvp/sdk to the SDK of this dvp.")
		}
		res.step("sdk", t)
	}

	// 3. Generate the Go types of schema.json (written only when stale).
	t = time.Now()
	_, _, _, gps := generateCode(p, false)
	res.Problems = append(res.Problems, gps...)
	res.step("generate", t)
	if res.Problems.HasErrors() {
		return res
	}

	// 4. Check the entry point and the Go toolchain before compiling.
	t = time.Now()
	entry, eps := checkEntryPoint(cfg)
	res.Problems = append(res.Problems, eps...)
	goModGo, mps := checkGoMod(cfg.SrcPath)
	res.Problems = append(res.Problems, mps...)
	goCmd, gp := goTool(opts.GoCommand)
	if gp != nil {
		res.Problems = append(res.Problems, *gp)
	}
	res.step("check sources", t)
	if res.Problems.HasErrors() {
		return res
	}

	// 5. Compile: once for linux/amd64 when that is the host (the same
	// binary gives the manifest), else for the host and the target at once.
	t = time.Now()
	tmp, err := os.MkdirTemp("", "dvp-build-")
	if err != nil {
		return fail(diag.Errorf(os.TempDir(), 0, 0, "cannot create a temporary directory: %v", err))
	}
	defer os.RemoveAll(tmp)
	target := compileJob{goCmd: goCmd, srcDir: cfg.SrcPath, out: filepath.Join(tmp, artifact.BinaryEntry), goos: TargetOS, arch: TargetArch, goModGo: goModGo}
	hostBinary := target.out
	// List and compress the sources while the plugin compiles.
	type packedSources struct {
		files  []zipfile.File
		packed map[string]*zipfile.PackedFile
		ps     diag.List
	}
	sourcesCh := make(chan packedSources, 1)
	go func() {
		files, packed, ps := packSources(cfg.SrcPath, map[string]bool{artifactPath: true})
		sourcesCh <- packedSources{files, packed, ps}
	}()
	log.Info("Compiling the plugin", "dir", cfg.SrcPath, "target", artifact.BinaryTarget)
	var goVersion string
	var cps diag.List
	if hostIsTarget() {
		goVersion, cps = target.run(ctx)
	} else {
		host := target
		host.out = filepath.Join(tmp, "plugin-host")
		host.goos, host.arch = goruntimeGOOS(), goruntimeGOARCH()
		hostBinary = host.out
		var wg sync.WaitGroup
		var hps diag.List
		wg.Add(1)
		go func() { defer wg.Done(); _, hps = host.run(ctx) }()
		goVersion, cps = target.run(ctx)
		wg.Wait()
		if len(cps) == 0 {
			cps = hps
		}
	}
	res.step("compile", t)
	res.GoVersion = goVersion
	srcs := <-sourcesCh
	if len(cps) > 0 {
		res.Problems = append(res.Problems, cps...)
		return res
	}

	// Pack the binary for the artifact (read, hash) while the manifest is
	// read; the channel is buffered, so an early return leaks nothing.
	type packed struct {
		p   *zipfile.PackedFile
		err error
	}
	packing := make(chan packed, 1)
	go func() {
		data, err := os.ReadFile(target.out)
		if err != nil {
			packing <- packed{nil, err}
			return
		}
		p, err := zipfile.Pack(data, binaryLevel)
		packing <- packed{p, err}
	}()
	waitPacked := func() (*zipfile.PackedFile, error) { pk := <-packing; return pk.p, pk.err }

	// 6. Read the manifest from the compiled plugin, and check it.
	t = time.Now()
	mctx, cancel := context.WithTimeout(ctx, ManifestTimeout)
	rm, err := pluginhost.ReadManifest(mctx, hostBinary)
	cancel()
	var me *pluginhost.ManifestError
	if err != nil && !(errors.As(err, &me) && rm != nil) {
		pr := diag.Errorf(entryFile(entry, cfg.SrcPath), 0, 0, "cannot read the plugin's manifest: %s", strings.TrimSpace(err.Error()))
		pr.Hint = fmt.Sprintf("the entry point's main must call %s.Main() (or runtime.Main) before anything else writes to stdout", cfg.EntrySymbol())
		return fail(pr)
	}
	m, mps2 := checkManifest(rm, strings.ToUpper(cfg.PluginType), entry)
	res.Manifest = m
	res.Problems = append(res.Problems, mps2...)
	res.step("manifest", t)
	if res.Problems.HasErrors() {
		return res
	}

	// 7. Package: the sourceCode ZIP and the artifact.
	t = time.Now()
	sources := srcs.files
	res.Problems = append(res.Problems, srcs.ps...)
	bin, err := waitPacked()
	if err != nil {
		return fail(diag.Errorf(target.out, 0, 0, "cannot read the compiled plugin: %v", err))
	}
	binSum := bin.SHA256()
	res.BinarySHA256 = binSum
	res.Sources = sortedNames(sources)
	rec := artifact.BuildRecord{
		GoVersion:    goVersion,
		Target:       artifact.BinaryTarget,
		SDKVersion:   sdkVersion(rm),
		DvpVersion:   opts.DvpVersion,
		BinarySHA256: binSum,
	}
	entries, err := zipEntries(rec, sources)
	if err != nil {
		return fail(diag.Errorf(cfg.SrcPath, 0, 0, "cannot package the plugin: %v", err))
	}
	srcs.packed[artifact.BinaryEntry] = bin
	a, aps := newArtifact(cfg, sch, m)
	res.Problems = append(res.Problems, aps...)
	res.step("package", t)
	if res.Problems.HasErrors() {
		return res
	}

	// 8. Upgrade safety against the released build.
	if opts.BaselinePath != "" {
		t = time.Now()
		res.Problems = append(res.Problems, checkBaseline(opts.BaselinePath, a, rm.Migrations, cfg.Path)...)
		res.step("baseline", t)
		if res.Problems.HasErrors() {
			return res
		}
	}

	// 9. Write the artifact atomically.
	t = time.Now()
	sum, err := writeArtifact(artifactPath, a, entries, srcs.packed)
	if err != nil {
		return fail(diag.Errorf(artifactPath, 0, 0, "Failed to write upload_artifact file to %s: %v", artifactPath, unwrapPathError(err)))
	}
	res.SHA256 = sum
	res.ArtifactPath = artifactPath
	res.Artifact = a
	res.step("write", t)
	log.Info("Successfully generated artifact file at " + artifactPath + ".")
	return res
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
