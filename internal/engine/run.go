package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dvpkit/dvp/internal/engine/guard"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
)

// dvp engine serve (internal/cli) maps its flags to RunOptions, with the
// defaults below, and calls Run: the command line reaches the engine
// through this one package (docs/architecture.md, "Layers").

// Defaults of FrontDoor and Config that the engine's packages own, for the
// flags of dvp engine serve.
const (
	DefaultBodyTimeout        = guard.DefaultBodyTimeout
	DefaultUploadIdleTimeout  = guard.DefaultUploadIdleTimeout
	DefaultMaxConns           = guard.DefaultMaxConns
	DefaultMaxUnauthenticated = guard.DefaultMaxUnauthenticated
	DefaultJobHeartbeat       = jobs.DefaultHeartbeat
	DefaultMaxJobs            = jobs.DefaultMaxJobs
	// DefaultLibraryMemory is Config.LibraryMemory's default
	// (--max-library-memory).
	DefaultLibraryMemory = pluginhost.DefaultLibraryMemory
)

// Limits bound each process of a plugin operation and each command on a
// local environment (Config.Limits).
type Limits = sandbox.Limits

// DefaultLimits are the limits of dvp engine serve when no flag changes
// them.
func DefaultLimits() Limits { return sandbox.DefaultLimits() }

// AdminPasswordEnv sets the admin password of dvp engine serve.
const AdminPasswordEnv = "DVP_ENGINE_ADMIN_PASSWORD"

// RunOptions are the inputs of dvp engine serve: its flags' values as given
// (the command maps each flag to a field), and what the command line
// injects.
type RunOptions struct {
	Listen            string
	DataDir           string // "": ~/.dvp/engine in Home
	TLSCert, TLSKey   string
	AdminPasswordFile string
	MaxUploadSize     string // a size: 2GiB, 512MiB, 1048576
	SessionTimeout    time.Duration
	UploadTokenTTL    time.Duration
	ReadyFile         string
	JobHeartbeat      time.Duration
	MaxJobs           int
	KeepJobs          int           // --keep-jobs; 0: keep all
	KeepJobsFor       time.Duration // --keep-jobs-for; 0: keep them for ever
	// The sandbox (docs/engine.md, "Sandbox").
	InsecureNoSandbox bool
	MaxMemory         string
	MaxProcesses      int
	MaxOpenFiles      int
	MaxCPUTime        time.Duration
	MaxPluginScratch  string
	MaxLibraryMemory  string
	// The front door (docs/engine.md, "The front door").
	Hostnames          []string
	HeaderTimeout      time.Duration
	BodyTimeout        time.Duration
	UploadIdleTimeout  time.Duration
	IdleTimeout        time.Duration
	MaxHeaderSize      string
	MaxConnections     int
	MaxUnauthenticated int
	AllowShortPassword bool
	WorkerInterval     time.Duration

	// Injected by the command line.
	Home       string              // the user's home directory, for the default DataDir
	Getenv     func(string) string // the environment (AdminPasswordEnv); nil: an empty one
	Out        io.Writer           // the lines serve prints: the URL, a generated password; nil: discard
	Quiet      int                 // -q: 1 leaves out the messages (isolation, stopped), 2 the URL line too; never a generated password
	Log        *slog.Logger        // nil: discard
	Redactor   *logging.Redactor   // learns the admin password; nil: a new one
	BcryptCost int                 // Config.BcryptCost
}

// FlagError is a flag value Run refuses before it starts anything; its
// message names the flag (the command line shows it with its usage).
type FlagError struct{ Msg string }

func (e *FlagError) Error() string { return e.Msg }

func flagErrorf(format string, args ...any) error {
	return &FlagError{Msg: fmt.Sprintf(format, args...)}
}

// sentence is an error of Run: whole sentences, printed as they are.
type sentence string

func (s sentence) Error() string { return string(s) }

func sayf(format string, args ...any) error { return sentence(fmt.Sprintf(format, args...)) }

// Run is dvp engine serve: it checks the options, finds the data directory
// and the admin password, opens the sandbox, listens, starts the engine
// (New) and serves (Serve) until ctx is done. It returns the data directory
// it used. Errors other than a FlagError are sentences for the user.
func Run(ctx context.Context, o RunOptions) (dataDir string, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Redactor == nil {
		o.Redactor = logging.NewRedactor()
	}
	cfg, err := o.config()
	if err != nil {
		return "", err
	}
	cert, err := o.tlsCertificate()
	if err != nil {
		return "", err
	}
	dataFrom := "the flag --data-dir"
	if cfg.DataDir == "" {
		if o.Home == "" {
			return "", flagErrorf("Invalid value for '--data-dir': there is no home directory to put ~/.dvp/engine in; give --data-dir.")
		}
		cfg.DataDir = filepath.Join(o.Home, ".dvp", "engine")
		dataFrom = "the default (~/.dvp/engine)"
	}
	passwordFrom, err := o.adminPassword(&cfg)
	if err != nil {
		return "", err
	}
	o.Redactor.Add(cfg.AdminPassword)
	o.Log.Info(fmt.Sprintf("Data directory %s, from %s.", cfg.DataDir, dataFrom))
	o.Log.Info(fmt.Sprintf("Admin password (not shown) from %s.", passwordFrom))
	// Nothing the engine starts needs the password in its environment.
	os.Unsetenv(AdminPasswordEnv)
	if cfg.Sandbox, err = o.openSandbox(); err != nil {
		return "", err
	}
	ln, err := o.listen()
	if err != nil {
		return "", err
	}
	defer ln.Close()
	e, generated, err := New(cfg)
	if err != nil {
		return "", sayf("Cannot start the engine: %v", err)
	}
	defer e.Close()
	if generated != "" {
		o.Redactor.Add(generated)
		fmt.Fprintf(o.Out, "Generated the password of user %s: %s\n", AdminUser, generated)
		fmt.Fprintf(o.Out, "It is shown only this once. To choose it, set %s or give --admin-password-file.\n", AdminPasswordEnv)
	}
	ready := func(url string) {
		if o.Quiet < 2 {
			fmt.Fprintf(o.Out, "dvp engine listening on %s (data in %s)\n", url, cfg.DataDir)
		}
		if o.Quiet < 1 {
			fmt.Fprintf(o.Out, "Plugin isolation: %s\n", cfg.Sandbox.Describe())
		}
		// The line above says it (but at -qq); -vv logs it too.
		o.Log.Debug("engine started", "url", url, "data_dir", cfg.DataDir)
		if o.ReadyFile != "" {
			if err := fsutil.WriteFile(o.ReadyFile, []byte(url+"\n"), 0o644); err != nil {
				o.Log.Error(fmt.Sprintf("Cannot write the ready file %s: %v", o.ReadyFile, err))
			}
		}
	}
	err = e.Serve(ctx, ServeOptions{Listener: ln, Certificate: cert, Ready: ready})
	if o.ReadyFile != "" {
		os.Remove(o.ReadyFile)
	}
	if err != nil {
		return cfg.DataDir, sayf("The engine stopped: %v", err)
	}
	if o.Quiet < 1 {
		fmt.Fprintln(o.Out, "dvp engine stopped")
	}
	return cfg.DataDir, nil
}

// config checks the flags' values and turns them into the engine's Config
// (without its password and sandbox, which Run adds).
func (o RunOptions) config() (Config, error) {
	maxUpload, err := parseSize(o.MaxUploadSize)
	if err != nil {
		return Config{}, flagErrorf("Invalid value for '--max-upload-size': %v.", err)
	}
	limits, err := o.limits()
	if err != nil {
		return Config{}, err
	}
	libMem, err := parseSize(o.MaxLibraryMemory)
	if err != nil || libMem < 16<<20 {
		return Config{}, flagErrorf("Invalid value for '--max-library-memory': %q is not a size of 16MiB or more (such as 1GiB).", o.MaxLibraryMemory)
	}
	maxHeader, err := parseSize(o.MaxHeaderSize)
	if err != nil || maxHeader > 1<<30 {
		return Config{}, flagErrorf("Invalid value for '--max-header-size': %q is not a size up to 1GiB (such as 64KiB).", o.MaxHeaderSize)
	}
	for _, h := range o.Hostnames {
		if err := guard.ValidHostname(h); err != nil {
			return Config{}, flagErrorf("Invalid value for '--hostname': %v.", err)
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"header-timeout", o.HeaderTimeout}, {"body-timeout", o.BodyTimeout}, {"upload-idle-timeout", o.UploadIdleTimeout}, {"idle-timeout", o.IdleTimeout}} {
		if d.v <= 0 {
			return Config{}, flagErrorf("Invalid value for '--%s': %s is not a positive duration (such as 30s).", d.flag, d.v)
		}
	}
	if o.WorkerInterval < 0 {
		return Config{}, flagErrorf("Invalid value for '--worker-interval': %s is negative (0 turns the workers off).", o.WorkerInterval)
	}
	if o.KeepJobs < 0 {
		return Config{}, flagErrorf("Invalid value for '--keep-jobs': %d is negative (0 keeps every job).", o.KeepJobs)
	}
	if o.KeepJobsFor < 0 {
		return Config{}, flagErrorf("Invalid value for '--keep-jobs-for': %s is negative (0 keeps jobs for ever).", o.KeepJobsFor)
	}
	if o.MaxConnections < 1 || o.MaxUnauthenticated < 1 {
		return Config{}, flagErrorf("Invalid value for '--max-connections' or '--max-unauthenticated': give a positive number.")
	}
	return Config{
		DataDir: o.DataDir, MaxUploadBytes: maxUpload,
		SessionTimeout: o.SessionTimeout, UploadTokenTTL: o.UploadTokenTTL, Log: o.Log, Redactor: o.Redactor,
		AllowShortPassword: o.AllowShortPassword, BcryptCost: o.BcryptCost,
		Limits: limits, LibraryMemory: libMem, JobHeartbeat: o.JobHeartbeat, MaxJobs: o.MaxJobs, WorkerInterval: o.WorkerInterval,
		KeepJobs: noBoundIfZero(o.KeepJobs), KeepJobsFor: noBoundIfZero(o.KeepJobsFor),
		SecretFiles: []string{o.AdminPasswordFile, o.TLSKey},
		Front: FrontDoor{
			Hostnames: o.Hostnames, HeaderTimeout: o.HeaderTimeout, BodyTimeout: o.BodyTimeout,
			UploadIdleTimeout: o.UploadIdleTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: int(maxHeader),
			MaxConns: o.MaxConnections, MaxUnauthenticated: o.MaxUnauthenticated,
		},
	}, nil
}

// limits reads the sandbox's limit flags.
func (o RunOptions) limits() (Limits, error) {
	mem, err := parseSize(o.MaxMemory)
	if err != nil {
		return Limits{}, flagErrorf("Invalid value for '--max-memory': %v.", err)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--max-processes", o.MaxProcesses}, {"--max-open-files", o.MaxOpenFiles}} {
		if f.v < 1 {
			return Limits{}, flagErrorf("Invalid value for '%s': %d is not a positive number.", f.name, f.v)
		}
	}
	if o.MaxCPUTime < time.Second {
		return Limits{}, flagErrorf("Invalid value for '--max-cpu-time': %s is less than a second.", o.MaxCPUTime)
	}
	scratch, err := parseSize(o.MaxPluginScratch)
	if err != nil {
		return Limits{}, flagErrorf("Invalid value for '--max-plugin-scratch': %v.", err)
	}
	return Limits{MemoryBytes: mem, Processes: o.MaxProcesses, OpenFiles: o.MaxOpenFiles,
		CPUSeconds: int((o.MaxCPUTime + time.Second - 1) / time.Second), ScratchBytes: scratch}, nil
}

// adminPassword sets cfg.AdminPassword from AdminPasswordEnv or, over it,
// the first line of AdminPasswordFile, and says where it came from.
func (o RunOptions) adminPassword(cfg *Config) (from string, err error) {
	if o.Getenv != nil {
		cfg.AdminPassword = o.Getenv(AdminPasswordEnv)
	}
	from = "the data directory (the one set at an earlier start), or generated and printed once on the first start"
	if cfg.AdminPassword != "" {
		from = "the environment variable " + AdminPasswordEnv
	}
	if o.AdminPasswordFile == "" {
		return from, nil
	}
	b, err := fsutil.ReadRegular(o.AdminPasswordFile, maxAdminPasswordFile)
	if err != nil {
		return "", sayf("Cannot read the admin password file: %v", err)
	}
	password, _, _ := strings.Cut(string(b), "\n")
	password = strings.TrimRight(password, "\r")
	if password == "" {
		return "", sayf("The admin password file %s is empty.", o.AdminPasswordFile)
	}
	cfg.AdminPassword = password
	return "--admin-password-file " + o.AdminPasswordFile, nil
}

// openSandbox opens the sandbox of plugin processes, or with
// InsecureNoSandbox none (nil), warning so.
func (o RunOptions) openSandbox() (*sandbox.Sandbox, error) {
	sb, err := sandbox.New()
	if err != nil {
		if !o.InsecureNoSandbox {
			return nil, sayf("Cannot start the engine: plugins must run in a sandbox, and %v. Run the engine on a Linux kernel that allows unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), or give --insecure-no-sandbox to run plugins unconfined.", err)
		}
		o.Log.Warn(fmt.Sprintf("Warning: plugins run WITHOUT a sandbox (--insecure-no-sandbox): %v. A plugin can read the engine's secrets and change its data.", err))
		return nil, nil
	}
	if o.InsecureNoSandbox {
		o.Log.Warn("Warning: plugins run WITHOUT a sandbox (--insecure-no-sandbox): a plugin can read the engine's secrets and change its data.")
		return nil, nil
	}
	return sb, nil
}

// listen opens the listener on Listen, warning when passwords would
// cross a network in clear text.
func (o RunOptions) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, sayf("Cannot listen on %s: another program (another dvp engine?) listens there. Stop it, or give --listen 127.0.0.1:0 for a free port (with --ready-file FILE to learn which).", o.Listen)
		}
		return nil, sayf("Cannot listen on %s: %v", o.Listen, err)
	}
	tls := o.TLSCert != "" && o.TLSKey != ""
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil && !tls {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			o.Log.Warn(fmt.Sprintf("Warning: the engine listens on %s without TLS: passwords cross the network in clear text. Give --tls-cert and --tls-key.", ln.Addr()))
		}
	}
	return ln, nil
}

// parseSize reads a byte size such as 2GiB, 512MiB, 100KiB or 1048576.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (such as 2GiB, 512MiB or 1048576)", s)
	}
	return n * mult, nil
}

// maxAdminPasswordFile bounds the --admin-password-file read: its first
// line is the password; a device or FIFO is refused (fsutil.ReadRegular).
const maxAdminPasswordFile = 64 << 10

// noBoundIfZero maps a flag's 0 (no bound) to Config's negative (Config's
// 0 is the default).
func noBoundIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
