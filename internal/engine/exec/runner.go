package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/internal/zipfile"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Plugin log files in the plugin's log directory (docs/compatibility.md,
// plugin logging): an ERROR
// record is in all three, an INFO record in info.log and debug.log.
const (
	DebugLogFile  = "debug.log"
	InfoLogFile   = "info.log"
	ErrorLogFile  = "error.log"
	OutputLogFile = "output.log" // what the plugin process wrote to stdout/stderr
)

// DefaultOperationTimeout bounds one plugin operation.
const DefaultOperationTimeout = 30 * time.Minute

// Runner starts the plugins of jobs.
type Runner struct {
	DataDir  string        // the engine's data directory
	Timeout  time.Duration // bounds one plugin operation
	Redactor *logging.Redactor
	// Environment returns the environment with the reference (found is
	// false when there is none), for the plugin's library calls.
	Environment func(ctx context.Context, ref string) (env engineapi.Environment, found bool, err error)
	// Secret registers a secret the plugin obtained (a vault's
	// credentials, an upgraded password) with the redactor.
	Secret func(string)
	// Known tells whether the redactor knows a secret already (nil: it
	// knows none).
	Known func(string) bool
	// Sandbox isolates plugin processes and the commands they run on local
	// environments (docs/engine.md, "Sandbox"); nil runs them unconfined,
	// and every operation's job says so.
	Sandbox *sandbox.Sandbox
	// Limits bound each plugin process and each local command.
	Limits sandbox.Limits
	// Memory bounds what the library calls of all plugins hold at once
	// (pluginhost.Options.Memory); nil: a budget per plugin process.
	Memory *pluginhost.MemoryBudget
	// Hidden are the directories sandboxed processes do not see: the
	// data directory and the engine user's ~/.dvp.
	Hidden []string
	// MaxCodeBytes bounds what an executable extracted from a plugin's
	// sourceCode may expand to: the limit of the uncompressed sourceCode
	// that uploads are checked against.
	MaxCodeBytes int64

	binMu sync.Mutex
	// binUse counts the running plugin processes of each extracted
	// executable (by code sha256); retired are those to remove once
	// unused (RetireBinary).
	binUse  map[string]int
	retired map[string]bool
	logs    sharedLogs
	// secretBytes counts the new secrets all plugin processes made the
	// engine learn (learn).
	secretBytes atomic.Int64
}

// Job is the job a plugin runs for: its operations are recorded as its
// events.
type Job interface {
	Info(code, details string)
	// Output records a line a command printed (source names the
	// command); the job bounds how many and how long.
	Output(source, line string)
	Ref() string
}

// WithJobOutput returns ctx whose commands record their output lines in
// job j, as from source (pluginhost.WithOutput).
func WithJobOutput(ctx context.Context, j Job, source string) context.Context {
	return pluginhost.WithOutput(ctx, func(line string) { j.Output(source, line) })
}

// ExtractBinary extracts the plugin executable of the code ZIP at zipPath
// (whose sha256 is sum) once, and returns its path; what names the code
// in errors.
func (rn *Runner) ExtractBinary(sum, zipPath, what string) (string, error) {
	rn.binMu.Lock()
	defer rn.binMu.Unlock()
	dir := filepath.Join(rn.DataDir, store.PluginBinDir, sum)
	path := filepath.Join(dir, artifact.BinaryEntry)
	delete(rn.retired, sum) // needed again
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// The upload's checks bounded the whole archive by the same limit;
	// the blob is read again here, so the bound is kept as it is read.
	if err := zipfile.ExtractFile(zipPath, artifact.BinaryEntry, path, rn.MaxCodeBytes, 0o755); err != nil {
		return "", fmt.Errorf("extracting the executable of %s: %w", what, err)
	}
	return path, nil
}

// RetireBinary removes the extracted executable of the code sum (an
// upgrade replaced its build, or its plugin was deleted): at once when no
// plugin process runs it, else when the last one ends. A later
// ExtractBinary of the same code keeps it.
func (rn *Runner) RetireBinary(sum string) error {
	if sum == "" || filepath.Base(sum) != sum || sum == "." || sum == ".." {
		return fmt.Errorf("invalid code name %q", sum)
	}
	rn.binMu.Lock()
	defer rn.binMu.Unlock()
	if rn.binUse[sum] > 0 {
		if rn.retired == nil {
			rn.retired = map[string]bool{}
		}
		rn.retired[sum] = true
		return nil
	}
	return os.RemoveAll(filepath.Join(rn.DataDir, store.PluginBinDir, sum))
}

// holdBinary counts a plugin process of the executable bin until the
// returned function runs; an executable of plugin-bin that RetireBinary
// removed meanwhile is refused.
func (rn *Runner) holdBinary(bin string) (release func(), err error) {
	dir := filepath.Dir(bin)
	if filepath.Dir(dir) != filepath.Join(rn.DataDir, store.PluginBinDir) {
		return func() {}, nil // not one the runner extracted
	}
	sum := filepath.Base(dir)
	rn.binMu.Lock()
	defer rn.binMu.Unlock()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("the plugin executable is gone (an upgrade or a delete replaced its build as this job started): %w", err)
	}
	if rn.binUse == nil {
		rn.binUse = map[string]int{}
	}
	rn.binUse[sum]++
	var once sync.Once
	return func() {
		once.Do(func() {
			rn.binMu.Lock()
			defer rn.binMu.Unlock()
			if rn.binUse[sum]--; rn.binUse[sum] > 0 {
				return
			}
			delete(rn.binUse, sum)
			if rn.retired[sum] {
				delete(rn.retired, sum)
				os.RemoveAll(dir)
			}
		})
	}, nil
}

// Plugin is one job's session with a plugin: its process, its libraries
// and its log files.
type Plugin struct {
	art     *artifact.Artifact
	host    *pluginhost.Host
	libs    *engineLibraries
	files   []func() // release the log files
	job     Job
	bare    bool // no sandbox
	timeout time.Duration
	stderr  *secrets.RedactingWriter // the plugin's stderr (and stdout) into output.log
	release func()                   // ends the hold on the executable (holdBinary)
	// BeforeCall, when set, runs before each operation: an error fails
	// the operation before the plugin runs it (the workflow's check that
	// its mounts are still the engine's).
	BeforeCall func(ctx context.Context, op string) error
}

// engineLibraries answers the plugin's library requests on the
// environment named by each request's connection.
type engineLibraries struct {
	rn    *Runner
	job   Job
	base  *pluginhost.LocalLibraries // logging and credentials
	debug io.Writer
	mu    sync.Mutex
	execs map[string]Executor
	// given are the environments of the connections the engine passed
	// to the plugin's operations: the only ones its library calls may
	// name (exec).
	given map[string]bool
	// secretBytes counts the new secrets this plugin process made the
	// engine learn (learn).
	secretBytes int64
	syncTo      string // run_sync destination (direct ingestion)
	// exposed are the storage directories of the job's containers, which
	// its commands on local environments see.
	exposed []string
	// group bounds the processes and memory of the plugin process and
	// of its commands on local environments together (a root engine's
	// cgroups; nil without).
	group *sandbox.Group
}

// exec is the executor of the environment a plugin's library call names
// by its connection: only one of the environments the engine gave the
// plugin's operations in their connections (given). A connection is
// plain JSON the plugin sends back, so a plugin could name any
// environment of the engine — another local environment's OS user, an
// SSH host with another environment's credentials.
func (l *engineLibraries) exec(ctx context.Context, conn sdk.RemoteConnection) (Executor, engineapi.Environment, error) {
	ref := conn.Environment.Reference
	l.mu.Lock()
	ok := l.given[ref]
	l.mu.Unlock()
	if !ok {
		return nil, engineapi.Environment{}, libErr(pluginhost.LibErrNotAllowed,
			"The connection names the environment %q, which this operation was not given: a plugin runs commands only on the environments of its operation's connections (%s).",
			ref, l.givenList())
	}
	return l.executor(ctx, ref)
}

// givenList names the environments of the operations' connections.
func (l *engineLibraries) givenList() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	refs := make([]string, 0, len(l.given))
	for r := range l.given {
		refs = append(refs, r)
	}
	if len(refs) == 0 {
		return "none"
	}
	slices.Sort(refs)
	return strings.Join(refs, ", ")
}

// give records the environments of the connections in an operation's
// input: every object with an "environment" that has a "reference" and
// a "user" (sdk.RemoteConnection as JSON).
func (l *engineLibraries) give(input any) {
	b, err := json.Marshal(input)
	if err != nil {
		return
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if env, ok := v["environment"].(map[string]any); ok {
				if ref, ok := env["reference"].(string); ok && ref != "" {
					if _, ok := v["user"]; ok {
						l.given[ref] = true
					}
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(v)
}

// executor is the executor of the environment ref (the engine's own
// choice: a hook's environment, or one given to the plugin).
func (l *engineLibraries) executor(ctx context.Context, ref string) (Executor, engineapi.Environment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	env, ok, err := l.rn.Environment(ctx, ref)
	if err != nil {
		return nil, env, err
	}
	if !ok {
		return nil, env, libErr(pluginhost.LibErrBadRequest, "The connection names the environment %q, which does not exist on this engine.", ref)
	}
	if x, ok := l.execs[ref]; ok {
		return x, env, nil
	}
	x := l.newExecutor(env)
	l.execs[ref] = x
	return x, env, nil
}

func (l *engineLibraries) trace(ctx context.Context, format string, args ...any) {
	l.Log(ctx, protocol.LevelDebug, "engine: "+fmt.Sprintf(format, args...))
}

func shortCmd(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func (l *engineLibraries) RunBash(ctx context.Context, conn sdk.RemoteConnection, req pluginhost.BashRequest) (libs.RunResult, error) {
	x, env, err := l.exec(ctx, conn)
	if err != nil {
		return libs.RunResult{}, err
	}
	res, err := x.RunBash(WithJobOutput(ctx, l.job, "run_bash on "+env.Name), req)
	l.trace(ctx, "run_bash on %s (%s): %s -> exit %d, err %v", env.Name, env.Reference, shortCmd(req.Command), res.ExitCode, err)
	return res, err
}

func (l *engineLibraries) RunExpect(ctx context.Context, conn sdk.RemoteConnection, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	x, env, err := l.exec(ctx, conn)
	if err != nil {
		return libs.RunResult{}, err
	}
	res, err := x.RunExpect(WithJobOutput(ctx, l.job, "run_expect on "+env.Name), req)
	l.trace(ctx, "run_expect on %s (%s) -> exit %d, err %v", env.Name, env.Reference, res.ExitCode, err)
	return res, err
}

func (l *engineLibraries) RunPowershell(ctx context.Context, conn sdk.RemoteConnection, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	x, env, err := l.exec(ctx, conn)
	if err != nil {
		return libs.RunResult{}, err
	}
	res, err := x.RunPowershell(WithJobOutput(ctx, l.job, "run_powershell on "+env.Name), req)
	l.trace(ctx, "run_powershell on %s (%s) -> exit %d, err %v", env.Name, env.Reference, res.ExitCode, err)
	return res, err
}

func (l *engineLibraries) RunSync(ctx context.Context, conn sdk.RemoteConnection, req pluginhost.SyncRequest) error {
	if l.syncTo == "" {
		return libErr(pluginhost.LibErrNotAllowed, "run_sync copies into a DIRECT dSource's storage: it can only be used during a DIRECT sync (linked.pre_snapshot).")
	}
	x, env, err := l.exec(ctx, conn)
	if err != nil {
		return err
	}
	err = x.Pull(WithJobOutput(ctx, l.job, "run_sync from "+env.Name), req, l.syncTo)
	l.trace(ctx, "run_sync from %s:%s -> err %v", env.Name, req.SourceDirectory, err)
	return err
}

// RetrieveCredentials resolves a supplier; the secrets it yields are
// registered with the redactor (a vault's secret is not in any stored
// object).
func (l *engineLibraries) RetrieveCredentials(ctx context.Context, supplier json.RawMessage) (sdk.Credentials, error) {
	c, err := l.base.RetrieveCredentials(ctx, supplier)
	switch c := c.(type) {
	case sdk.PasswordCredentials:
		if err := l.learn(c.Password); err != nil {
			return nil, err
		}
	case sdk.KeyPairCredentials:
		if err := l.learn(c.PrivateKey); err != nil {
			return nil, err
		}
	}
	return c, err
}

func (l *engineLibraries) UpgradePassword(ctx context.Context, password, username string) (json.RawMessage, error) {
	if err := l.learn(password); err != nil {
		return nil, err
	}
	return l.base.UpgradePassword(ctx, password, username)
}

// Bounds of the secrets plugins make the engine learn through their
// library calls (retrieve_credentials, upgrade_password): each is
// registered with the redactor for as long as the engine runs, and a
// plugin could hand it any number of made-up ones.
const (
	MaxPluginSecret         = 64 << 10 // one secret (a password, a private key)
	MaxPluginSecretBytes    = 1 << 20  // the new secrets of one plugin process
	MaxAllPluginSecretBytes = 64 << 20 // the new secrets of all plugin processes
)

// learn registers a secret the plugin obtained (a vault's credentials, an
// upgraded password) with the redactor, within the bounds above; a secret
// the engine knows already costs nothing.
func (l *engineLibraries) learn(secret string) error {
	if secret == "" || l.rn.Known != nil && l.rn.Known(secret) {
		return nil
	}
	if len(secret) > MaxPluginSecret {
		return libErr(pluginhost.LibErrBadRequest, "The credential is %d bytes: a credential a plugin hands the engine holds at most %d bytes (a password or a private key is far shorter), and the engine keeps each to mask it in every log.", len(secret), MaxPluginSecret)
	}
	cost := int64(len(secret))
	if strings.Contains(secret, "\n") {
		cost *= 2 // its lines are registered too
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secretBytes+cost > MaxPluginSecretBytes {
		return libErr(pluginhost.LibErrNotAllowed, "The engine did not take this credential: a plugin process may make the engine learn at most %d bytes of new secrets (the engine keeps each to mask it in every log, for as long as it runs), and this one has made it learn %d.", MaxPluginSecretBytes, l.secretBytes)
	}
	if all := l.rn.secretBytes.Add(cost); all > MaxAllPluginSecretBytes {
		l.rn.secretBytes.Add(-cost)
		return libErr(pluginhost.LibErrNotAllowed, "The engine did not take this credential: the plugins have made it learn %d bytes of new secrets since it started, its bound (it keeps each to mask it in every log). Restart the engine (dvp engine serve) to forget them.", MaxAllPluginSecretBytes)
	}
	l.secretBytes += cost
	l.rn.Secret(secret)
	return nil
}

// Log writes a plugin log record, with every known secret masked; a
// record over maxLogRecord bytes is cut.
func (l *engineLibraries) Log(ctx context.Context, level, message string) {
	if len(message) > maxLogRecord {
		message = fmt.Sprintf("%s [... %d more bytes cut by the engine]", strings.ToValidUTF8(message[:maxLogRecord], ""), len(message)-maxLogRecord)
	}
	l.base.Log(ctx, level, l.rn.Redactor.Redact(message))
}

func (l *engineLibraries) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.execs {
		x.Close()
	}
	l.execs = map[string]Executor{}
}

// Start starts the plugin executable bin (ExtractBinary) of the plugin
// pluginID, built as a says, for a job. The plugin's log lines go to its
// log directory; what it prints, with every known secret masked, to
// output.log there.
func (rn *Runner) Start(pluginID string, a *artifact.Artifact, bin string, j Job) (*Plugin, error) {
	dir, err := store.PluginLogDir(rn.DataDir, pluginID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	work, err := rn.workDir(pluginID)
	if err != nil {
		return nil, err
	}
	unhold, err := rn.holdBinary(bin)
	if err != nil {
		return nil, err
	}
	r := &Plugin{art: a, job: j, timeout: rn.Timeout, bare: rn.Sandbox == nil, release: unhold}
	var ws [4]io.Writer
	for i, n := range []string{DebugLogFile, InfoLogFile, ErrorLogFile, OutputLogFile} {
		w, release, err := rn.logs.open(filepath.Join(dir, n))
		if err != nil {
			r.closeFiles()
			unhold()
			return nil, err
		}
		ws[i] = w
		r.files = append(r.files, release)
	}
	group, err := rn.Sandbox.NewGroup(rn.Limits)
	if err != nil {
		r.closeFiles()
		unhold()
		return nil, fmt.Errorf("the plugin's sandbox cannot be set up: %w", err)
	}
	base := &pluginhost.LocalLibraries{DebugLog: ws[0], InfoLog: ws[1], ErrorLog: ws[2]}
	r.libs = &engineLibraries{rn: rn, job: j, base: base, debug: ws[0], execs: map[string]Executor{}, given: map[string]bool{}, group: group}
	r.stderr = secrets.NewRedactingWriter(ws[3], rn.Redactor)
	r.host, err = pluginhost.New(pluginhost.Options{Binary: bin, Libraries: r.libs, Stderr: r.stderr, Dir: work,
		Env: sandbox.Env(nil, work), Sandbox: rn.Sandbox, Policy: rn.pluginPolicy(bin, work, group), Memory: rn.Memory})
	if err != nil {
		group.Close()
		r.closeFiles()
		unhold()
		return nil, err
	}
	return r, nil
}

func (r *Plugin) closeFiles() {
	for _, release := range r.files {
		release()
	}
	r.files = nil
}

// Close stops the plugin process and closes its log files.
func (r *Plugin) Close() {
	if r.host != nil {
		r.host.Close()
	}
	if r.release != nil {
		r.release()
	}
	r.libs.close()
	r.libs.group.Close()
	if r.stderr != nil {
		r.stderr.Flush()
	}
	r.closeFiles()
}

// Call runs one operation, recording it as a job event, and decodes its
// output into out (when out is not nil).
func (r *Plugin) Call(ctx context.Context, op string, input any, out any) error {
	if r.BeforeCall != nil {
		if err := r.BeforeCall(ctx, op); err != nil {
			return err
		}
	}
	r.job.Info("event.plugin.operation.started", fmt.Sprintf("Running the plugin operation %s().", op))
	if r.bare {
		r.job.Info("event.plugin.unsandboxed", fmt.Sprintf("Warning: %s() runs without a sandbox (--insecure-no-sandbox): the plugin can read and change everything the engine's user can, the engine's data included.", op))
	}
	r.libs.trace(ctx, "calling %s() (job %s)", op, r.job.Ref())
	r.libs.give(input)
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	raw, err := r.host.Call(cctx, op, input)
	if err != nil {
		var pe *pluginhost.PluginError
		if errors.As(err, &pe) {
			r.libs.Log(ctx, protocol.LevelError, fmt.Sprintf("engine: %s() failed (%s): %s", op, pe.Kind, pe.Message))
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return &pluginhost.PluginError{Kind: pluginhost.KindBadOutput, Operation: op, Action: sdk.DefaultUserErrorAction,
				Message: fmt.Sprintf("The output of the %s() operation cannot be used by the engine: %v", op, err)}
		}
	}
	return nil
}

// HasOp tells whether the plugin implements an optional operation, from
// its manifest.
func (r *Plugin) HasOp(op string) bool {
	m := r.art.Manifest
	switch op {
	case "linked.pre_snapshot":
		return m.HasLinkedPreSnapshot
	case "linked.start_staging":
		return m.HasLinkedStartStaging
	case "linked.stop_staging":
		return m.HasLinkedStopStaging
	case "linked.status":
		return m.HasLinkedStatus
	case "virtual.unconfigure":
		return m.HasVirtualUnconfigure
	case "virtual.cleanup":
		return m.HasVirtualCleanup
	case "virtual.start":
		return m.HasVirtualStart
	case "virtual.stop":
		return m.HasVirtualStop
	case "virtual.pre_snapshot":
		return m.HasVirtualPreSnapshot
	case "virtual.status":
		return m.HasVirtualStatus
	case "linked.worker":
		return m.HasLinkedWorker
	case "linked.source_size":
		return m.HasLinkedSourceSize
	case "virtual.source_size":
		return m.HasVirtualSourceSize
	case "virtual.initialize":
		return m.HasInitialize
	}
	return true
}

// SyncTo sets the directory run_sync copies into ("" forbids run_sync):
// a DIRECT dSource's storage during its linked.pre_snapshot.
func (r *Plugin) SyncTo(dir string) { r.libs.syncTo = dir }
