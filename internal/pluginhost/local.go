package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// LocalLibraries executes library requests on this host, whatever the
// connection's environment: for tests and for a local engine whose
// environments are this host.
type LocalLibraries struct {
	// Dir is the working directory of scripts; "" is the user's home
	// directory (as on a real environment).
	Dir string
	// Env is the base environment of scripts; nil is this process's
	// passed through sandbox.Env's allow-list (never a DVP_* variable).
	// Request variables are added to it.
	Env []string
	// Sandbox isolates scripts and rsync with Policy (docs/engine.md,
	// "Sandbox"); nil runs them without isolation, each in its own process
	// group. RunSync adds SyncDestination to the policy's writable paths.
	Sandbox *sandbox.Sandbox
	Policy  sandbox.Policy
	// SyncDestination is the directory RunSync copies into (the dSource's
	// data); RunSync fails when it is empty.
	SyncDestination string
	// MaxOutput bounds stdout and stderr of a script, each, counted as the
	// JSON text of the result (OutputBuffer); 0 is MaxCommandOutput. A
	// script that prints more fails with a LibraryError.
	MaxOutput int
	// DebugLog, InfoLog and ErrorLog receive plugin log records, each
	// hierarchically: the debug log gets all records, the info log INFO
	// and ERROR, the error log ERROR only. Nil writers are skipped.
	DebugLog, InfoLog, ErrorLog io.Writer

	logMu sync.Mutex
}

var _ Libraries = (*LocalLibraries)(nil)

func unsupported(format string, args ...any) error {
	return &libs.LibraryError{ID: LibErrUnsupported, Message: fmt.Sprintf(format, args...)}
}

// RunBash runs bash -c (bash -l -c with a login shell).
func (l *LocalLibraries) RunBash(ctx context.Context, _ sdk.RemoteConnection, req BashRequest) (libs.RunResult, error) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return libs.RunResult{}, unsupported("run_bash is not supported on this host: bash is not installed.")
	}
	args := []string{"-c", req.Command}
	if req.UseLoginShell {
		args = []string{"-l", "-c", req.Command}
	}
	return l.run(ctx, bash, args, req.Variables)
}

// RunPowershell runs pwsh -Command when PowerShell is installed.
func (l *LocalLibraries) RunPowershell(ctx context.Context, _ sdk.RemoteConnection, req ScriptRequest) (libs.RunResult, error) {
	pwsh, err := exec.LookPath("pwsh")
	if err != nil {
		return libs.RunResult{}, unsupported("run_powershell is not supported on this host: PowerShell (pwsh) is not installed.")
	}
	return l.run(ctx, pwsh, []string{"-NoProfile", "-NonInteractive", "-Command", req.Command}, req.Variables)
}

// RunExpect runs the script with expect -f when expect is installed.
func (l *LocalLibraries) RunExpect(ctx context.Context, _ sdk.RemoteConnection, req ScriptRequest) (libs.RunResult, error) {
	expect, err := exec.LookPath("expect")
	if err != nil {
		return libs.RunResult{}, unsupported("run_expect is not supported on this host: expect is not installed.")
	}
	f, err := os.CreateTemp("", "dvp-expect-*.exp")
	if err != nil {
		return libs.RunResult{}, err
	}
	defer os.Remove(f.Name())
	if u := l.Policy.User; u != nil { // the script runs as that user: it must read the file
		if err := f.Chown(u.UID, u.GID); err != nil {
			f.Close()
			return libs.RunResult{}, err
		}
	}
	_, werr := f.WriteString(req.Command)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return libs.RunResult{}, werr
	}
	return l.run(ctx, expect, []string{"-f", f.Name()}, req.Variables)
}

func (l *LocalLibraries) run(ctx context.Context, bin string, args []string, vars map[string]string) (libs.RunResult, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = time.Second
	dir := l.Dir
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = home
		}
	}
	cmd.Dir = dir
	env := l.Env
	if env == nil {
		env = sandbox.Env(nil, "")
	}
	env = append([]string(nil), env...)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	unbox, err := l.Sandbox.Wrap(cmd, l.Policy)
	if err != nil {
		return libs.RunResult{}, &libs.LibraryError{ID: LibErrFailed, Message: "The command cannot be started in its sandbox: " + err.Error()}
	}
	defer unbox()
	max := l.MaxOutput
	if max <= 0 {
		max = MaxCommandOutput
	}
	charge := MemoryCharge(ctx)
	stdout, stderr := &OutputBuffer{Max: max, JSON: true, Charge: charge}, &OutputBuffer{Max: max, JSON: true, Charge: charge}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if lw, flush := OutputWriter(ctx); lw != nil {
		lw2, flush2 := OutputWriter(ctx)
		cmd.Stdout, cmd.Stderr = io.MultiWriter(stdout, lw), io.MultiWriter(stderr, lw2)
		defer flush2()
		defer flush()
	}
	err = cmd.Run()
	if ctx.Err() != nil {
		return libs.RunResult{}, &libs.LibraryError{ID: LibErrCancelled, Message: fmt.Sprintf("%s was stopped: %v", filepath.Base(bin), context.Cause(ctx))}
	}
	if err := OutputErr(stdout, stderr); err != nil {
		return libs.RunResult{}, err
	}
	res := libs.RunResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return libs.RunResult{}, &libs.LibraryError{ID: LibErrFailed, Message: err.Error()}
		}
		res.ExitCode = ee.ExitCode()
		if res.ExitCode < 0 { // killed by a signal
			res.ExitCode = 128 + signalNumber(ee)
		}
	}
	return res, nil
}

// RunSync copies SourceDirectory into SyncDestination with rsync -a
// --delete (the destination mirrors the source, like a dSource after a
// sync): excluded paths are left out, and symbolic links listed in
// SymLinksToFollow (paths relative to the source directory, or absolute
// under it) are copied as what they point to. Other links stay links.
func (l *LocalLibraries) RunSync(ctx context.Context, _ sdk.RemoteConnection, req SyncRequest) error {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		return unsupported("run_sync is not supported on this host: rsync is not installed.")
	}
	if l.SyncDestination == "" {
		return unsupported("run_sync is not supported by this engine: no sync destination is configured.")
	}
	if req.RsyncUser != "" {
		if u, err := user.Current(); l.Policy.User != nil {
			if l.Policy.User.Name != req.RsyncUser {
				return unsupported("run_sync cannot run rsync as the user '%s' on this host: the environment's commands run as '%s'.", req.RsyncUser, l.Policy.User.Name)
			}
		} else if err != nil || u.Username != req.RsyncUser {
			return unsupported("run_sync cannot run rsync as the user '%s' on this host.", req.RsyncUser)
		}
	}
	src := strings.TrimRight(req.SourceDirectory, "/") + "/"
	if err := os.MkdirAll(l.SyncDestination, 0o755); err != nil {
		return &libs.LibraryError{ID: LibErrFailed, Message: err.Error()}
	}
	dest := strings.TrimRight(l.SyncDestination, "/") + "/"
	args := []string{"-a", "--delete"}
	for _, p := range req.ExcludePaths {
		args = append(args, "--exclude="+anchor(p, src))
	}
	for _, p := range req.SymLinksToFollow {
		// The first pass skips the links; the second copies their targets.
		args = append(args, "--exclude="+anchor(p, src))
	}
	args = append(args, src, dest)
	if err := l.rsync(ctx, rsync, args); err != nil {
		return err
	}
	for _, p := range req.SymLinksToFollow {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
		target := filepath.Join(dest, rel)
		// Made through a descriptor of dest that follows no link out of
		// it: what the first pass copied may hold links, and this runs
		// in the engine, with its rights.
		if err := mkdirIn(dest, filepath.Dir(rel)); err != nil {
			return &libs.LibraryError{ID: LibErrFailed, Message: err.Error()}
		}
		from := filepath.Join(src, rel)
		if fi, err := os.Stat(from); err == nil && fi.IsDir() {
			from, target = from+"/", target+"/"
		}
		if err := l.rsync(ctx, rsync, []string{"-a", "--copy-links", from, target}); err != nil {
			return err
		}
	}
	return nil
}

// mkdirIn makes the directory rel (and its parents) inside dir, never
// following a link out of dir.
func mkdirIn(dir, rel string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if rel = filepath.Clean(rel); rel == "." {
		return nil
	}
	return root.MkdirAll(rel, 0o755)
}

// anchor makes p an rsync pattern anchored at the transfer root.
func anchor(p, src string) string {
	return "/" + strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
}

func (l *LocalLibraries) rsync(ctx context.Context, rsync string, args []string) error {
	lw, flush := OutputWriter(ctx)
	if lw != nil {
		// The files rsync copies, one line each, are the job's progress.
		args = append([]string{"--out-format=%n%L"}, args...)
	}
	cmd := exec.CommandContext(ctx, rsync, args...)
	cmd.WaitDelay = time.Second
	cmd.Env = l.Env
	if cmd.Env == nil {
		cmd.Env = sandbox.Env(nil, "")
	}
	p := l.Policy
	p.Expose = append(append([]sandbox.Bind(nil), p.Expose...), sandbox.Bind{Path: l.SyncDestination, Writable: true})
	unbox, err := l.Sandbox.Wrap(cmd, p)
	if err != nil {
		return &libs.LibraryError{ID: LibErrFailed, Message: "rsync cannot be started in its sandbox: " + err.Error()}
	}
	defer unbox()
	out := &OutputBuffer{Max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if lw != nil {
		cmd.Stdout = lw
		defer flush()
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return &libs.LibraryError{ID: LibErrCancelled, Message: "rsync was stopped: " + context.Cause(ctx).Error()}
		}
		return &libs.LibraryError{ID: LibErrFailed, Message: fmt.Sprintf("rsync failed (%v): %s", err, strings.TrimSpace(out.String()))}
	}
	return nil
}

// RetrieveCredentials resolves NamedPasswordCredential and
// NamedKeyPairCredential suppliers; vaults (CyberArk, HashiCorp, Azure) are
// not supported on this host.
func (l *LocalLibraries) RetrieveCredentials(_ context.Context, supplier json.RawMessage) (sdk.Credentials, error) {
	var s struct {
		Type       string `json:"type"`
		Username   string `json:"username"`
		Password   string `json:"password"`
		PrivateKey string `json:"privateKey"`
		PublicKey  string `json:"publicKey"`
	}
	if err := json.Unmarshal(supplier, &s); err != nil {
		return nil, &libs.LibraryError{ID: LibErrCredentials, Message: "The credentials supplier is not an object: " + err.Error()}
	}
	switch s.Type {
	case "NamedPasswordCredential":
		return sdk.PasswordCredentials{Username: s.Username, Password: s.Password}, nil
	case "NamedKeyPairCredential":
		return sdk.KeyPairCredentials{Username: s.Username, PrivateKey: s.PrivateKey, PublicKey: s.PublicKey}, nil
	case "CyberArkVaultCredential", "HashiCorpVaultCredential", "AzureVaultCredential":
		return nil, unsupported("retrieve_credentials cannot read a %s on this host: no vault is configured.", s.Type)
	}
	return nil, &libs.LibraryError{ID: LibErrCredentials, Message: fmt.Sprintf(
		"The credentials supplier has the type '%s', which is not NamedPasswordCredential, NamedKeyPairCredential or a vault credential.", s.Type)}
}

// UpgradePassword returns a NamedPasswordCredential supplier.
func (l *LocalLibraries) UpgradePassword(_ context.Context, password, username string) (json.RawMessage, error) {
	s := map[string]string{"type": "NamedPasswordCredential", "password": password}
	if username != "" {
		s["username"] = username
	}
	return json.Marshal(s)
}

// logTime is the time of a plugin log line: RFC 3339 in UTC with a fixed
// six fraction digits, so the lines' columns stay aligned.
const logTime = "2006-01-02T15:04:05.000000Z07:00"

// Log writes "<RFC 3339 time> <LEVEL> [<operation>] <message>" lines.
func (l *LocalLibraries) Log(ctx context.Context, level, message string) {
	op := ""
	if ci, ok := CallInfoFrom(ctx); ok && ci.Operation != "" {
		op = " [" + ci.Operation + "]"
	}
	line := fmt.Sprintf("%s %s%s %s\n", time.Now().UTC().Format(logTime), level, op, message)
	var ws []io.Writer
	switch level {
	case protocol.LevelError:
		ws = []io.Writer{l.DebugLog, l.InfoLog, l.ErrorLog}
	case protocol.LevelInfo:
		ws = []io.Writer{l.DebugLog, l.InfoLog}
	default:
		ws = []io.Writer{l.DebugLog}
	}
	l.logMu.Lock()
	defer l.logMu.Unlock()
	for _, w := range ws {
		if w != nil {
			_, _ = io.WriteString(w, line)
		}
	}
}
