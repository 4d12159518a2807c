package build

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// MinGoVersion is the oldest Go a plugin may be built with: the generated
// types use the omitzero JSON option, new in Go 1.24.
const MinGoVersion = "1.24"

// TargetOS and TargetArch are what an engine runs (docs/build.md,
// toolchain).
const (
	TargetOS   = "linux"
	TargetArch = "amd64"
)

// BuildFlags are the flags of every go build of a plugin: a reproducible,
// static binary without file system paths or VCS stamp. Go's build ID stays
// in the binary: go build compares it with the existing output to skip an
// unneeded link, and with -trimpath it depends on the inputs only, not on
// where they are (TestBuildIsReproducible builds in two directories).
var BuildFlags = []string{"-trimpath", "-buildvcs=false"}

// GoEnv returns env (os.Environ() form) with the settings of an offline,
// reproducible plugin build for goos/goarch: modules resolved from go.mod
// and its replace directives only (no proxy, no checksum database, no
// workspace, no toolchain download), cgo off, the baseline amd64 level.
// The build and module caches stay the user's, so warm builds are fast.
func GoEnv(env []string, goos, goarch string) []string {
	drop := map[string]bool{
		"GOFLAGS": true, "GOPROXY": true, "GOSUMDB": true, "GOWORK": true, "GOTOOLCHAIN": true,
		"CGO_ENABLED": true, "GOOS": true, "GOARCH": true, "GOAMD64": true, "GONOSUMDB": true, "GOPRIVATE": true,
	}
	out := make([]string, 0, len(env)+10)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out,
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local",
		"CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOAMD64=v1")
}

// hostIsTarget reports whether a binary built for the target runs here, so
// one compile serves both the manifest and the artifact.
func hostIsTarget() bool { return goruntime.GOOS == TargetOS && goruntime.GOARCH == TargetArch }

// goTool finds the go command. An explicit path wins; then PATH; then
// $GOROOT/bin when GOROOT is set (a toolchain unpacked but not put on
// PATH). needGo is the Go the plugin asks for (its go.mod's go line), ""
// when unknown: the problem of a missing toolchain says which to install,
// and where dvp looked.
func goTool(explicit, needGo string) (string, *diag.Problem) {
	if explicit != "" {
		return explicit, nil
	}
	p, err := exec.LookPath("go")
	if err == nil {
		return p, nil
	}
	goroot := os.Getenv("GOROOT")
	if goroot != "" {
		if p, err := exec.LookPath(filepath.Join(goroot, "bin", "go")); err == nil {
			return p, nil
		}
	}
	if needGo == "" || compareGoVersions(needGo, MinGoVersion) < 0 {
		needGo = MinGoVersion
	}
	where := "there is no 'go' command on PATH"
	if goroot != "" {
		where += fmt.Sprintf(" nor in GOROOT (%s/bin)", goroot)
	}
	// No file is at fault: the problem has no location.
	pr := diag.Errorf("", 0, 0, "dvp build compiles the plugin with the Go toolchain (Go %s or newer), but %s", needGo, where)
	pr.Hint = fmt.Sprintf("install Go %s or newer (https://go.dev/dl/, or your system's package manager) and put its bin directory on PATH, "+
		"for example: export PATH=\"$PATH:/usr/local/go/bin\" (or set GOROOT to where Go is installed); 'go version' then says which Go it is", needGo)
	return "", &pr
}

var goDirective = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*go\s+([0-9]+(?:\.[0-9]+){0,2})\s*(?://.*)?$`)
})

// maxGoMod bounds the go.mod dvp reads (go.mod could link to /dev/zero).
const maxGoMod = 16 << 20

// checkGoMod reads the go directive of <srcDir>/go.mod: it must exist and
// ask for at least MinGoVersion.
func checkGoMod(srcDir string) (goVersion string, problems diag.List) {
	path := filepath.Join(srcDir, "go.mod")
	data, err := fsutil.ReadRegular(path, maxGoMod)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			pr := diag.Errorf(path, 0, 0, "the plugin's source directory has no go.mod: a Go plugin's srcDir must be a Go module")
			pr.Hint = "run 'dvp init' in an empty directory to see the expected layout, or 'go mod init <module>' in the source directory"
			return "", diag.List{pr}
		}
		return "", diag.List{diag.Errorf(path, 0, 0, "cannot read go.mod: %v", err)}
	}
	m := goDirective().FindSubmatchIndex(data)
	if m == nil {
		pr := diag.Errorf(path, 0, 0, "go.mod has no 'go' line; dvp plugins need 'go %s' or newer", MinGoVersion)
		pr.Hint = fmt.Sprintf("add the line 'go %s' to go.mod", MinGoVersion)
		return "", diag.List{pr}
	}
	goVersion = string(data[m[2]:m[3]])
	if compareGoVersions(goVersion, MinGoVersion) < 0 {
		line := 1 + bytes.Count(data[:m[2]], []byte("\n"))
		pr := diag.Errorf(path, line, 0, "go.mod says 'go %s', but dvp plugins need Go %s or newer (the generated types use the omitzero JSON option)", goVersion, MinGoVersion)
		pr.Hint = fmt.Sprintf("change the line to 'go %s'", MinGoVersion)
		return goVersion, diag.List{pr}
	}
	return goVersion, nil
}

// compareGoVersions compares "1.24", "1.24.3", "go1.26.8" or "go1.25rc1"
// by their numeric release parts.
func compareGoVersions(a, b string) int {
	pa, pb := goVersionParts(a), goVersionParts(b)
	for i := 0; i < 3; i++ {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func goVersionParts(v string) [3]int {
	v = strings.TrimPrefix(v, "go")
	var out [3]int
	for i, p := range strings.SplitN(v, ".", 3) {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		out[i], _ = strconv.Atoi(p[:end])
	}
	return out
}

// compileJob is one go build of the plugin.
type compileJob struct {
	goCmd      string
	srcDir     string
	out        string // the binary to write
	goos, arch string
	goModGo    string // the go directive, for messages
	// readonly: go.mod and go.sum are not updated (-mod=readonly), for a
	// go build that starts before the steps that may still fail.
	readonly bool
}

// runningCompile is a go build started by compileJob.start.
type runningCompile struct {
	job    compileJob
	ctx    context.Context
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// start starts go build and returns without waiting for it (wait does):
// the build starts it on its own goroutine, so that go build runs before
// the steps that follow take the cores (a goroutine started to run it
// could wait for one behind them).
func (j compileJob) start(ctx context.Context) (*runningCompile, diag.List) {
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", j.out, ".")
	cmd := exec.CommandContext(ctx, j.goCmd, args...)
	interruptGroup(cmd)
	cmd.Dir = j.srcDir
	cmd.Env = GoEnv(os.Environ(), j.goos, j.arch)
	if j.readonly {
		for i, kv := range cmd.Env {
			if kv == "GOFLAGS=-mod=mod" {
				cmd.Env[i] = "GOFLAGS=-mod=readonly"
			}
		}
	}
	stderr := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, diag.List{diag.Errorf(j.srcDir, 0, 0, "compiling the plugin was interrupted: %v", ctx.Err())}
		}
		return nil, diag.List{diag.Errorf(j.srcDir, 0, 0, "cannot run %s: %v", j.goCmd, err)}
	}
	return &runningCompile{job: j, ctx: ctx, cmd: cmd, stderr: stderr}, nil
}

// wait waits for the go build and turns its output into problems at the
// user's files and lines. It returns the binary's Go version.
func (r *runningCompile) wait() (goVersion string, problems diag.List) {
	j, ctx, stderr := r.job, r.ctx, r.stderr
	err := r.cmd.Wait()
	if ctx.Err() != nil {
		return "", diag.List{diag.Errorf(j.srcDir, 0, 0, "compiling the plugin was interrupted: %v", ctx.Err())}
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", diag.List{diag.Errorf(j.srcDir, 0, 0, "cannot run %s: %v", j.goCmd, err)}
		}
		ps := parseGoOutput(stderr.String(), j.srcDir, j.goModGo)
		if len(ps) == 0 {
			ps = diag.List{diag.Errorf(j.srcDir, 0, 0, "go build failed (%v) without saying why", err)}
		}
		return "", ps
	}
	info, err := buildinfo.ReadFile(j.out)
	if err != nil {
		return "", diag.List{diag.Errorf(j.out, 0, 0, "cannot read the build information of the compiled plugin: %v", err)}
	}
	if compareGoVersions(info.GoVersion, MinGoVersion) < 0 {
		pr := diag.Errorf(j.goCmd, 0, 0, "the plugin was compiled with %s, but dvp plugins need Go %s or newer", info.GoVersion, MinGoVersion)
		pr.Hint = fmt.Sprintf("install Go %s or newer (https://go.dev/dl/)", MinGoVersion)
		return "", diag.List{pr}
	}
	return info.GoVersion, nil
}

var (
	compilerLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+?\.go):(\d+)(?::(\d+))?: (.*)$`) })
	requiresGo   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`requires go >= ([0-9][0-9.a-z]*) \(running go ([0-9][0-9.a-z]*)`)
	})
	goModFileLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^go: (?:errors parsing )?(.+?go\.mod):(\d+)(?::(\d+))?: (.*)$`)
	})
)

// parseGoOutput turns the output of a failed go build into problems: one
// per compiler message, at the absolute path of the file (the command line
// shows it relative to the project), continuation lines folded into the
// message before them; toolchain problems get a message that says what
// to install.
func parseGoOutput(out, srcDir, goModGo string) diag.List {
	var ps diag.List
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "# "):
			continue // the package header
		case (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "  ")) && len(ps) > 0:
			ps[len(ps)-1].Message += "\n    " + strings.TrimSpace(line)
			continue
		}
		if m := requiresGo().FindStringSubmatch(line); m != nil {
			pr := diag.Errorf(filepath.Join(srcDir, "go.mod"), 0, 0,
				"the plugin needs Go %s or newer (go.mod says 'go %s'), but the go command on PATH is go %s", m[1], goModGo, m[2])
			pr.Hint = fmt.Sprintf("install Go %s or newer (https://go.dev/dl/), or lower the go line of go.mod (not below %s)", m[1], MinGoVersion)
			ps = append(ps, pr)
			continue
		}
		if m := goModFileLine().FindStringSubmatch(line); m != nil {
			ps = append(ps, located(m[1], m[2], m[3], m[4], srcDir))
			continue
		}
		if m := compilerLine().FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "go: ") {
			ps = append(ps, located(m[1], m[2], m[3], m[4], srcDir))
			continue
		}
		msg := strings.TrimPrefix(line, "go: ")
		if strings.Contains(msg, "GOPROXY=off") || strings.Contains(msg, "module lookup disabled") {
			pr := diag.Errorf(filepath.Join(srcDir, "go.mod"), 0, 0, "%s", msg)
			pr.Hint = "dvp builds offline: every module the plugin needs must be in the module cache or replaced by a local directory (the SDK is in .dvp/sdk); run 'go mod download' once with network access for third-party modules"
			ps = append(ps, pr)
			continue
		}
		ps = append(ps, diag.Errorf(srcDir, 0, 0, "%s", msg))
	}
	return ps
}

func located(file, line, col, msg, srcDir string) diag.Problem {
	if !filepath.IsAbs(file) {
		file = filepath.Join(srcDir, filepath.FromSlash(file))
	}
	l, _ := strconv.Atoi(line)
	c, _ := strconv.Atoi(col)
	return diag.Errorf(filepath.Clean(file), l, c, "%s", msg)
}

func goruntimeGOOS() string   { return goruntime.GOOS }
func goruntimeGOARCH() string { return goruntime.GOARCH }
