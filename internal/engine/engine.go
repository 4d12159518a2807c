// Package engine wires dvp's local engine together: the subset of the
// Delphix Engine REST API that dvp uses (docs/engine.md), with real
// persistence in a data directory. It holds no logic of its own: New opens
// the data directory (an exclusive lock), the store and the secrets
// keeper, recovers from a crash and builds the layers; Serve answers
// requests, behind the front door, until it is told to stop. It is the
// command line's one way into the engine: Run (run.go) is dvp engine
// serve, from its flags' values to the engine's stop.
//
// The layers, each a package, with dependencies pointing one way:
//
//	guard   the front door: which requests are answered at all, and how
//	        much a client can make the engine hold
//	api     HTTP: the route table, sessions and tokens, request decoding,
//	        envelopes; maps the domain's errors to HTTP statuses
//	core    the workflows as services (upload and upgrade, environments,
//	        link, sync, provision, refresh, ...), returning domain errors
//	jobs    background jobs: actions, events, per-object locks
//	sched   when the sync and refresh policies run
//	exec    running commands on environments (local, SSH) and plugins
//	store   SQLite, blobs, spools, recovery
//	secrets the secrets key, sealing, the redacting writer
//
// api -> guard, core; core -> jobs, sched, exec, store, secrets;
// exec -> store, secrets; jobs -> store; store -> secrets.
package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/engine/api"
	"github.com/dvpkit/dvp/internal/engine/core"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/guard"
	"github.com/dvpkit/dvp/internal/engine/sched"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/filelock"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
)

// Defaults of Config.
const (
	DefaultListen           = "127.0.0.1:8780"
	DefaultMaxUploadBytes   = 2 << 30
	DefaultMaxSourceBytes   = 4 << 30
	DefaultSessionTimeout   = 30 * time.Minute
	DefaultUploadTokenTTL   = 5 * time.Minute
	DefaultDownloadTokenTTL = 10 * time.Minute
)

// DefaultWorkerInterval is dvp engine serve's --worker-interval.
const DefaultWorkerInterval = core.DefaultWorkerInterval

// DefaultKeepJobs and DefaultKeepJobsFor are dvp engine serve's
// --keep-jobs and --keep-jobs-for.
const (
	DefaultKeepJobs    = core.DefaultKeepJobs
	DefaultKeepJobsFor = core.DefaultKeepJobsFor
)

// AdminUser is the engine's one user.
const AdminUser = core.AdminUser

// Config configures an engine.
type Config struct {
	DataDir string
	// Home is the engine user's home directory ("": $HOME): its ~/.dvp is
	// hidden from plugins, and its local environments' scratch paths are
	// in it.
	Home string
	// AdminPassword, when set, becomes the admin's password (replacing the
	// stored one). When empty, the stored password is kept, or on first
	// start a password is generated and returned by New, once.
	AdminPassword  string
	MaxUploadBytes int64 // size limit of an uploaded artifact
	// UploadWait is how long an upload waits for room among those being
	// received (twice MaxUploadBytes in all); 0: api.DefaultUploadWait.
	UploadWait       time.Duration
	MaxSourceBytes   int64         // limit of the uncompressed sourceCode ZIP
	SessionTimeout   time.Duration // idle time after which a session ends
	UploadTokenTTL   time.Duration
	DownloadTokenTTL time.Duration
	Log              *slog.Logger     // nil: discard
	Clock            func() time.Time // nil: time.Now
	BcryptCost       int              // 0: bcrypt.DefaultCost (tests use bcrypt.MinCost)
	// OperationTimeout bounds one plugin operation; 0: exec.DefaultOperationTimeout.
	OperationTimeout time.Duration
	// JobHeartbeat is how often a running job records that it still runs;
	// 0: jobs.DefaultHeartbeat.
	JobHeartbeat time.Duration
	// MaxJobs bounds the jobs clients started that have not ended (a
	// session may hold half); 0: jobs.DefaultMaxJobs, negative none.
	MaxJobs int
	// WorkerInterval is how often linked.worker runs for each enabled
	// STAGED dSource (DefaultWorkerInterval for dvp engine serve); 0: never.
	WorkerInterval time.Duration
	// KeepJobs bounds the ended jobs kept (with their events and
	// actions; docs/engine.md, "Jobs"), KeepJobsFor how long they are
	// kept; 0: DefaultKeepJobs, DefaultKeepJobsFor; negative: no bound.
	KeepJobs    int
	KeepJobsFor time.Duration
	// JobEventsFirst and JobEventsLast bound one job's events: it keeps
	// its first and its last ones, dropping those between
	// (store.KeepJobEvents); 0: store.DefaultJobEventsFirst and
	// store.DefaultJobEventsLast.
	JobEventsFirst, JobEventsLast int
	// Redactor masks secrets; the engine registers every secret of plugin
	// parameters with it. Give the one Log's handler uses, so that the
	// engine's log is masked too. nil: a new one.
	Redactor *logging.Redactor
	// Sandbox isolates plugin processes and their commands on local
	// environments (docs/engine.md, "Sandbox"); nil runs them unconfined,
	// and every plugin operation's job warns so.
	Sandbox *sandbox.Sandbox
	// Limits bound each plugin process and each local command.
	Limits sandbox.Limits
	// LibraryMemory bounds the memory the library calls of all plugins
	// hold at once (requests, command output); a plugin process may hold
	// half of it. 0: DefaultLibraryMemory.
	LibraryMemory int64
	// AllowShortPassword lets AdminPassword be shorter than
	// MinPasswordLength (a test engine).
	AllowShortPassword bool
	// Front configures the front door (docs/engine.md, "The front door").
	Front FrontDoor
	// SchedClock is the clock of the policies' scheduler; nil: real
	// timers on Clock. Tests give a sched.FakeClock.
	SchedClock sched.Clock
	// SecretFiles are files of the engine's secrets that may lie outside
	// its directories (the admin password file, the TLS key): plugins and
	// their local commands cannot open them (docs/engine.md, "Sandbox").
	SecretFiles []string
}

// MinPasswordLength is the shortest admin password the engine starts
// with, unless Config.AllowShortPassword.
const MinPasswordLength = 8

// Defaults of FrontDoor (the others are guard's).
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 64 << 10
)

// FrontDoor configures what the engine answers and how much a client can
// make it hold (internal/engine/guard). Zero values are the defaults.
type FrontDoor struct {
	Hostnames          []string      // names besides localhost, loopback and the --listen host
	HeaderTimeout      time.Duration // for a request's headers
	BodyTimeout        time.Duration // for a JSON body, whole
	UploadIdleTimeout  time.Duration // the longest pause in an upload
	IdleTimeout        time.Duration // of a keep-alive connection
	MaxHeaderBytes     int
	MaxConns           int
	MaxUnauthenticated int
	// Throttle configures login throttling; its Clock defaults to
	// Config.Clock.
	Throttle guard.ThrottleConfig
}

func (c *Config) defaults() {
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.MaxSourceBytes <= 0 {
		c.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.UploadTokenTTL <= 0 {
		c.UploadTokenTTL = DefaultUploadTokenTTL
	}
	if c.DownloadTokenTTL <= 0 {
		c.DownloadTokenTTL = DefaultDownloadTokenTTL
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = exec.DefaultOperationTimeout
	}
	if c.KeepJobs == 0 {
		c.KeepJobs = DefaultKeepJobs
	}
	if c.KeepJobsFor == 0 {
		c.KeepJobsFor = DefaultKeepJobsFor
	}
	if c.Redactor == nil {
		c.Redactor = logging.NewRedactor()
	}
	f := &c.Front
	if f.HeaderTimeout <= 0 {
		f.HeaderTimeout = DefaultHeaderTimeout
	}
	if f.IdleTimeout <= 0 {
		f.IdleTimeout = DefaultIdleTimeout
	}
	if f.MaxHeaderBytes <= 0 {
		f.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if f.Throttle.Clock == nil {
		f.Throttle.Clock = c.Clock
	}
}

// Engine is a running local engine.
type Engine struct {
	cfg      Config
	store    *store.Store
	core     *core.Engine
	api      *api.Server
	lock     *os.File
	stop     chan struct{}
	stopOnce sync.Once
	stopLog  func() // writes the log lines waiting (logging.Async)
}

// asyncLogRecords bounds the engine's log records waiting to be written.
const asyncLogRecords = 4096

// New opens (creating if needed) the data directory and recovers from a
// crash. It returns the generated admin password when it made one (first
// start without Config.AdminPassword); the caller shows it once.
func New(cfg Config) (*Engine, string, error) {
	cfg.defaults()
	if cfg.Home == "" {
		cfg.Home, _ = os.UserHomeDir()
	}
	if err := cfg.check(); err != nil {
		return nil, "", err
	}
	dir, err := openDataDir(cfg)
	if err != nil {
		return nil, "", err
	}
	// The engine's debug and info lines are written by a goroutine of
	// their own (logging.Async): a request does not wait for the log
	// file, nor for the other requests' lines (docs/performance.md).
	h, stopLog := logging.Async(cfg.Log.Handler(), asyncLogRecords)
	cfg.Log = slog.New(h)
	warnSecretFileLinks(cfg.Log, cfg.SecretFiles)
	e := &Engine{cfg: cfg, store: dir.store, lock: dir.lock, stop: make(chan struct{}), stopLog: stopLog,
		core: core.New(core.Config{DataDir: cfg.DataDir, Home: cfg.Home, EngineID: dir.engineID, MaxSourceBytes: cfg.MaxSourceBytes, BcryptCost: cfg.BcryptCost,
			Clock: cfg.Clock, SchedClock: cfg.SchedClock, Log: cfg.Log, Redactor: cfg.Redactor, JobHeartbeat: cfg.JobHeartbeat, MaxJobs: cfg.MaxJobs,
			KeepJobs: max(cfg.KeepJobs, 0), KeepJobsFor: max(cfg.KeepJobsFor, 0)}, dir.store, dir.keeper, newRunner(cfg, dir))}
	if err := e.recover(); err != nil {
		e.Close()
		return nil, "", err
	}
	if err := e.core.StartPolicies(context.Background()); err != nil {
		e.Close()
		return nil, "", fmt.Errorf("scheduling the policies of %s: %w", cfg.DataDir, err)
	}
	generated, err := e.core.EnsureAdmin(context.Background(), cfg.AdminPassword)
	if err != nil {
		e.Close()
		return nil, "", err
	}
	e.api = api.New(api.Config{MaxUploadBytes: cfg.MaxUploadBytes, UploadWait: cfg.UploadWait, SessionTimeout: cfg.SessionTimeout, UploadTokenTTL: cfg.UploadTokenTTL,
		DownloadTokenTTL: cfg.DownloadTokenTTL, Clock: cfg.Clock, Log: cfg.Log, Redactor: cfg.Redactor,
		Throttle: guard.NewThrottle(cfg.Front.Throttle)}, e.core)
	go e.janitor()
	e.core.StartWorkers(cfg.WorkerInterval)
	return e, generated, nil
}

// check refuses a Config New cannot start with.
func (c *Config) check() error {
	if c.DataDir == "" {
		return errors.New("the engine needs a data directory")
	}
	if c.AdminPassword != "" && utf8.RuneCountInString(c.AdminPassword) < MinPasswordLength && !c.AllowShortPassword {
		return fmt.Errorf("the admin password is shorter than %d characters, too easy to guess for anything that can reach the engine: "+
			"choose a longer one (DVP_ENGINE_ADMIN_PASSWORD or --admin-password-file), give none to have one generated, or, for a test engine only, start it with --allow-short-password", MinPasswordLength)
	}
	return nil
}

// dataDir is the engine's data directory, opened: its lock held, its
// secrets key and its store open.
type dataDir struct {
	lock     *os.File
	keeper   *secrets.Keeper
	store    *store.Store
	engineID string
}

// openDataDir creates the data directory if needed, makes it private,
// locks it and opens its secrets key and store.
func openDataDir(cfg Config) (*dataDir, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := store.SecureDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	keeper, err := secrets.OpenKeeper(cfg.DataDir, cfg.Redactor)
	if err != nil {
		lock.Close()
		return nil, err
	}
	st, err := store.Open(cfg.DataDir, keeper)
	if err != nil {
		lock.Close()
		return nil, err
	}
	st.KeepJobEvents(cfg.JobEventsFirst, cfg.JobEventsLast)
	engineID, err := st.EngineID(context.Background())
	if err != nil {
		st.Close()
		lock.Close()
		return nil, fmt.Errorf("reading the engine's id in %s: %w", cfg.DataDir, err)
	}
	return &dataDir{lock: lock, keeper: keeper, store: st, engineID: engineID}, nil
}

// newRunner is the runner of the engine's plugin processes and commands.
func newRunner(cfg Config, dir *dataDir) *exec.Runner {
	st := dir.store
	rn := &exec.Runner{DataDir: cfg.DataDir, Timeout: cfg.OperationTimeout, MaxCodeBytes: cfg.MaxSourceBytes, Redactor: cfg.Redactor, Secret: dir.keeper.Register,
		Sandbox: cfg.Sandbox, Limits: cfg.Limits, Hidden: hiddenDirs(cfg.DataDir, cfg.Home, cfg.SecretFiles),
		Memory: pluginhost.NewMemoryBudget(cfg.LibraryMemory),
		Environment: func(ctx context.Context, ref string) (env engineapi.Environment, found bool, err error) {
			found, err = st.GetObject(ctx, store.KindEnvironment, ref, &env)
			return env, found, err
		}}
	if cfg.Redactor != nil {
		rn.Known = cfg.Redactor.Known
	}
	return rn
}

// recover brings the data directory back to a consistent state after a
// stop of the engine: the jobs it cut off, partial uploads, orphan blobs,
// the objects those jobs changed, local scratch paths of an older layout;
// then it reads the stored objects' secrets.
func (e *Engine) recover() error {
	ctx, cfg, st := context.Background(), e.cfg, e.store
	// The jobs a stop cut off, read before the store's recovery marks
	// them FAILED: the objects' recovery looks at what they did.
	interrupted, err := st.InterruptedJobs(ctx)
	if err != nil {
		return fmt.Errorf("recovering the data directory %s: %w", cfg.DataDir, err)
	}
	tmp, blobs, err := st.Recover(cfg.Clock())
	if err != nil {
		return fmt.Errorf("recovering the data directory %s: %w", cfg.DataDir, err)
	}
	if tmp > 0 || blobs > 0 {
		cfg.Log.Info("recovered the data directory", "partial_uploads_removed", tmp, "orphan_blobs_removed", blobs)
	}
	if rec, err := e.core.RecoverObjects(ctx, interrupted); err != nil {
		return fmt.Errorf("recovering the objects of %s: %w", cfg.DataDir, err)
	} else if rec != (core.Recovered{}) || len(interrupted) > 0 {
		cfg.Log.Info("recovered from a stop of the engine", "interrupted_jobs", len(interrupted), "interrupted_containers", rec.Containers, "interrupted_environments", rec.Environments,
			"snapshots_removed", rec.Snapshots, "orphans_removed", rec.Orphans)
	}
	if n, err := e.core.MoveLocalScratchPaths(ctx); err != nil {
		return fmt.Errorf("moving the scratch paths of local environments out of %s: %w", cfg.DataDir, err)
	} else if n > 0 {
		cfg.Log.Info("moved the scratch paths of local environments out of the data directory", "count", n)
	}
	if n, err := st.PrimeSecrets(ctx); err != nil {
		// The objects stay listed; the jobs that need their secrets fail
		// with this error until the key is restored.
		cfg.Log.Error("the secrets of stored objects cannot be read", "objects", n, "error", err)
	}
	return nil
}

// hiddenDirs are what sandboxed processes must not see: the data
// directory and the engine user's ~/.dvp (its logs, its other engines).
func hiddenDirs(dataDir, home string, secretFiles []string) []string {
	var dirs []string
	if abs, err := filepath.Abs(dataDir); err == nil {
		dirs = append(dirs, abs)
	}
	if home != "" && filepath.IsAbs(home) {
		dirs = append(dirs, filepath.Join(home, ".dvp"))
	}
	for _, f := range secretFiles {
		if f == "" {
			continue
		}
		if abs, err := filepath.Abs(f); err == nil {
			dirs = append(dirs, abs)
			// The file a link given as the flag points to, too.
			if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
				dirs = append(dirs, real)
			}
		}
	}
	return dirs
}

// lockTries bounds the tries of the data directory's lock (about 0.4 s in
// all).
const lockTries = 30

// waitLock waits before the try-th try of a held lock (a variable for tests).
var waitLock = func(try int) { time.Sleep(time.Duration(try) * time.Millisecond) }

// lockDataDir takes an exclusive lock on the data directory, so that two
// engines never share one.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, store.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	err = filelock.TryLock(f)
	for try := 1; errors.Is(err, filelock.ErrLocked) && try < lockTries; try++ {
		// A process being started at this moment (by this process, for a
		// plugin) holds a copy of every open file until it execs, the
		// lock of an engine that just stopped included: wait a little
		// before calling it another engine's.
		waitLock(try)
		err = filelock.TryLock(f)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("the data directory %s is in use by another engine (%v); stop it or choose another --data-dir", dir, err)
	}
	return f, nil
}

// Handler is the engine's HTTP API behind its front door, for a server
// whose listen address is unknown: it answers the loopback names and
// Config.Front.Hostnames. Serve uses its own, which knows the address.
func (e *Engine) Handler() http.Handler { return e.guard("").Wrap(e.api.Handler()) }

// guard is the engine's front door for an engine listening on listenHost.
func (e *Engine) guard(listenHost string) *guard.Guard {
	f := e.cfg.Front
	return guard.New(guard.Config{
		ListenHost: listenHost, Hostnames: f.Hostnames,
		MultipartPaths: []string{engineapi.APIPrefix + engineapi.PathUpload},
		BodyTimeout:    f.BodyTimeout, UploadIdleTimeout: f.UploadIdleTimeout,
		MaxUnauthenticated: f.MaxUnauthenticated,
		MaxHeaderBytes:     f.MaxHeaderBytes,
		Authenticated:      e.api.LoggedIn,
	})
}

// DataDir is the engine's data directory.
func (e *Engine) DataDir() string { return e.cfg.DataDir }

func (e *Engine) janitor() {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.api.Sweep()
			e.core.PruneJobs(context.Background())
		}
	}
}

// Close waits for running jobs and closes the store.
func (e *Engine) Close() error {
	e.stopOnce.Do(func() { close(e.stop) })
	e.core.Stop()
	e.core.Wait()
	err := e.store.Close()
	if e.lock != nil {
		e.lock.Close()
	}
	e.stopLog()
	return err
}

// ServeOptions say where and how to listen.
type ServeOptions struct {
	Listener net.Listener // required
	// Certificate, when set, makes it serve HTTPS (TLS 1.2 and later)
	// with it (Run reads --tls-cert and --tls-key before it starts).
	Certificate *tls.Certificate
	// Ready, when set, is called with the engine's base URL once it accepts
	// connections.
	Ready func(url string)
}

// Serve answers requests until ctx is done, then shuts down gracefully:
// it cancels running jobs (their plugin processes and commands end), stops
// accepting, lets requests in flight finish (up to 30 s) and waits for the
// jobs.
func (e *Engine) Serve(ctx context.Context, o ServeOptions) error {
	listenHost, _, _ := net.SplitHostPort(o.Listener.Addr().String())
	startProfiling(e)
	f := e.cfg.Front
	// Bodies have their own deadlines (the guard's): no ReadTimeout here,
	// which would cut long uploads.
	ln := guard.LimitListener(o.Listener, f.MaxConns)
	// HTTP/1.1 only: the front door's bounds count connections, one
	// request at a time on each; an HTTP/2 connection (which Go's server
	// speaks over TLS) carries up to 250 at once (docs/engine.md, "The
	// front door").
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv := &http.Server{
		Protocols:         &protocols,
		Handler:           ln.Wrap(e.guard(listenHost).Wrap(e.api.Handler())),
		ReadHeaderTimeout: f.HeaderTimeout,
		IdleTimeout:       f.IdleTimeout,
		MaxHeaderBytes:    guard.ServerHeaderBytes(f.MaxHeaderBytes),
		ConnState:         ln.ConnState,
		ConnContext:       ln.ConnContext,
		ErrorLog:          slog.NewLogLogger(e.cfg.Log.Handler(), slog.LevelDebug),
	}
	scheme := "http"
	if o.Certificate != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*o.Certificate}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	url := scheme + "://" + o.Listener.Addr().String()
	if o.Ready != nil {
		o.Ready(url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.cfg.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Running jobs are cancelled: their plugin operations and commands end
	// (killed after a short grace), they do not run to completion.
	e.core.Stop()
	err := srv.Shutdown(sctx)
	e.core.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
