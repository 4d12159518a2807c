package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/internal/engine"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// EngineAdminPasswordEnv sets the admin password of dvp engine serve.
const EngineAdminPasswordEnv = "DVP_ENGINE_ADMIN_PASSWORD"

// EngineServeOptions are the inputs of dvp engine serve.
type EngineServeOptions struct {
	Listen            string
	DataDir           string
	TLSCert, TLSKey   string
	AdminPasswordFile string
	MaxUploadSize     string
	SessionTimeout    time.Duration
	UploadTokenTTL    time.Duration
	ReadyFile         string
	JobHeartbeat      time.Duration
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
}

func newEngineCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Run a local engine to upload plugins to",
		Long: `The local engine implements the part of the Delphix Engine REST API that
'dvp upload' and 'dvp download-logs' use, with real persistence, so that a
plugin can be uploaded and checked without a Delphix Engine, and runs the
plugin's operations: environments and discovery, dSources, snapshots, VDBs.

dvp help local-engine is the whole guide (flags, storage, sandbox, mounts,
limits); dvp help workflows says when the engine calls each operation.`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() { cmd.AddCommand(newEngineServeCmd(app)) })
	return cmd
}

func newEngineServeCmd(app *App) *cobra.Command {
	opts := EngineServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the local engine until interrupted",
		Long: `Serve runs the local engine on --listen (loopback by default) with its state in
--data-dir: an SQLite database and content-addressed blobs, which survive
restarts and crashes.

The one user is admin. Its password is DVP_ENGINE_ADMIN_PASSWORD or the first
line of --admin-password-file when given (replacing the stored one); else
the stored password is kept, or on the first start a password is generated
and printed once.

Plugin processes, and the commands they run on local environments, run in a
sandbox: an allow-listed environment, no view of the data directory or
~/.dvp, every process ended with its operation, limits per operation
(--max-memory, --max-processes, --max-open-files, --max-cpu-time), and for
plugin processes no network and a file system of their own: the system's
programs and libraries, read-only, and a work directory of at most
--max-plugin-scratch. Serve prints which isolation is active and refuses to start where
the kernel cannot sandbox, unless --insecure-no-sandbox is given.

When it accepts connections, serve prints "dvp engine listening on URL" on
stdout and writes URL to --ready-file if given. SIGINT, SIGTERM or SIGHUP
(its terminal closed) stops it gracefully: its running jobs are canceled
(they end CANCELED, saying that the engine stopped) and it exits 130, 143 or
129, saying where it kept its data; under nohup SIGHUP is ignored. dvp help local-engine is the whole guide.`,
		Example: `  dvp engine serve
  dvp engine serve --admin-password-file ~/.dvp/engine-password --listen 127.0.0.1:0 --ready-file /tmp/engine.url
  dvp engine serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return runEngineServe(cmd.Context(), app, opts)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", engine.DefaultListen, "the address to listen on (port 0 picks a free port)")
	f.StringVar(&opts.DataDir, "data-dir", "", "the engine's data directory (default ~/.dvp/engine)")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key)")
	f.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.StringVar(&opts.AdminPasswordFile, "admin-password-file", "", "a file whose first line is the admin password")
	f.StringVar(&opts.MaxUploadSize, "max-upload-size", "2GiB", "the largest artifact accepted (bytes, or with KiB, MiB, GiB)")
	f.DurationVar(&opts.SessionTimeout, "session-timeout", engine.DefaultSessionTimeout, "idle time after which a session ends")
	f.DurationVar(&opts.UploadTokenTTL, "upload-token-ttl", engine.DefaultUploadTokenTTL, "how long an upload token stays valid")
	f.DurationVar(&opts.JobHeartbeat, "job-heartbeat", engine.DefaultJobHeartbeat, "how often a running job records an event saying it still runs, with the time elapsed")
	f.StringVar(&opts.ReadyFile, "ready-file", "", "write the engine's URL to this file once it accepts connections")
	def := engine.DefaultLimits()
	f.BoolVar(&opts.InsecureNoSandbox, "insecure-no-sandbox", false, "run plugins without a sandbox where the kernel cannot sandbox them (plugins can then read the engine's secrets)")
	f.StringVar(&opts.MaxMemory, "max-memory", "8GiB", "the data (heap) size limit of each process of a plugin operation, and for a root engine the memory of a plugin process and its commands together (bytes, or with KiB, MiB, GiB)")
	f.IntVar(&opts.MaxProcesses, "max-processes", def.Processes, "the processes and threads of a plugin process with everything it starts (a root engine counts its commands on local environments with it; else each has its own)")
	f.IntVar(&opts.MaxOpenFiles, "max-open-files", def.OpenFiles, "the open files of each process of a plugin operation")
	f.DurationVar(&opts.MaxCPUTime, "max-cpu-time", time.Duration(def.CPUSeconds)*time.Second, "the CPU time of each process of a plugin operation")
	f.StringVar(&opts.MaxPluginScratch, "max-plugin-scratch", "256MiB", "the size of a plugin process's work directory, a private scratch space in memory (bytes, or with KiB, MiB, GiB)")
	f.StringVar(&opts.MaxLibraryMemory, "max-library-memory", "1GiB", "the engine's memory for the library calls of all plugins at once (their requests and the output of their commands); a plugin process may use half of it, a call beyond is refused saying so (bytes, or with KiB, MiB, GiB)")
	f.StringArrayVar(&opts.Hostnames, "hostname", nil, "a further name the engine answers to in the Host header, besides localhost, loopback addresses and the --listen host (repeatable)")
	f.DurationVar(&opts.HeaderTimeout, "header-timeout", engine.DefaultHeaderTimeout, "how long a request's headers may take to arrive")
	f.DurationVar(&opts.BodyTimeout, "body-timeout", engine.DefaultBodyTimeout, "how long a JSON request body may take to arrive")
	f.DurationVar(&opts.UploadIdleTimeout, "upload-idle-timeout", engine.DefaultUploadIdleTimeout, "the longest pause without a byte in an upload's body")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", engine.DefaultIdleTimeout, "how long a keep-alive connection may stay idle between requests")
	f.StringVar(&opts.MaxHeaderSize, "max-header-size", "64KiB", "the largest request header accepted")
	f.IntVar(&opts.MaxConnections, "max-connections", engine.DefaultMaxConns, "the most connections held at once (at the cap, the one idle longest is closed once idle 1s, else a new one waits up to 5s, then gets 503)")
	f.IntVar(&opts.MaxUnauthenticated, "max-unauthenticated", engine.DefaultMaxUnauthenticated, "the most requests without a logged-in session answered at once")
	f.DurationVar(&opts.WorkerInterval, "worker-interval", engine.DefaultWorkerInterval, "how often the plugin's linked.worker runs for each enabled STAGED dSource (0: never)")
	f.BoolVar(&opts.AllowShortPassword, "allow-short-password", false, fmt.Sprintf("accept an admin password shorter than %d characters (a test engine only)", engine.MinPasswordLength))
	return cmd
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

// sandboxLimits reads the limit flags.
func sandboxLimits(opts EngineServeOptions) (engine.Limits, error) {
	mem, err := parseSize(opts.MaxMemory)
	if err != nil {
		return engine.Limits{}, Usagef("Invalid value for '--max-memory': %v.", err)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--max-processes", opts.MaxProcesses}, {"--max-open-files", opts.MaxOpenFiles}} {
		if f.v < 1 {
			return engine.Limits{}, Usagef("Invalid value for '%s': %d is not a positive number.", f.name, f.v)
		}
	}
	if opts.MaxCPUTime < time.Second {
		return engine.Limits{}, Usagef("Invalid value for '--max-cpu-time': %s is less than a second.", opts.MaxCPUTime)
	}
	scratch, err := parseSize(opts.MaxPluginScratch)
	if err != nil {
		return engine.Limits{}, Usagef("Invalid value for '--max-plugin-scratch': %v.", err)
	}
	return engine.Limits{MemoryBytes: mem, Processes: opts.MaxProcesses, OpenFiles: opts.MaxOpenFiles,
		CPUSeconds: int((opts.MaxCPUTime + time.Second - 1) / time.Second), ScratchBytes: scratch}, nil
}

func runEngineServe(ctx context.Context, app *App, opts EngineServeOptions) error {
	maxUpload, err := parseSize(opts.MaxUploadSize)
	if err != nil {
		return Usagef("Invalid value for '--max-upload-size': %v.", err)
	}
	limits, err := sandboxLimits(opts)
	if err != nil {
		return err
	}
	libMem, err := parseSize(opts.MaxLibraryMemory)
	if err != nil || libMem < 16<<20 {
		return Usagef("Invalid value for '--max-library-memory': %q is not a size of 16MiB or more (such as 1GiB).", opts.MaxLibraryMemory)
	}
	maxHeader, err := parseSize(opts.MaxHeaderSize)
	if err != nil || maxHeader > 1<<30 {
		return Usagef("Invalid value for '--max-header-size': %q is not a size up to 1GiB (such as 64KiB).", opts.MaxHeaderSize)
	}
	for _, h := range opts.Hostnames {
		if err := engine.ValidHostname(h); err != nil {
			return Usagef("Invalid value for '--hostname': %v.", err)
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"header-timeout", opts.HeaderTimeout}, {"body-timeout", opts.BodyTimeout}, {"upload-idle-timeout", opts.UploadIdleTimeout}, {"idle-timeout", opts.IdleTimeout}} {
		if d.v <= 0 {
			return Usagef("Invalid value for '--%s': %s is not a positive duration (such as 30s).", d.flag, d.v)
		}
	}
	if opts.WorkerInterval < 0 {
		return Usagef("Invalid value for '--worker-interval': %s is negative (0 turns the workers off).", opts.WorkerInterval)
	}
	if opts.MaxConnections < 1 || opts.MaxUnauthenticated < 1 {
		return Usagef("Invalid value for '--max-connections' or '--max-unauthenticated': give a positive number.")
	}
	dataFrom := "the flag --data-dir"
	if opts.DataDir == "" {
		if app.IO.Home == "" {
			return Usagef("Invalid value for '--data-dir': there is no home directory to put ~/.dvp/engine in; give --data-dir.")
		}
		opts.DataDir = filepath.Join(app.IO.Home, ".dvp", "engine")
		dataFrom = "the default (~/.dvp/engine)"
	}
	password := app.IO.Env(EngineAdminPasswordEnv)
	passwordFrom := "the data directory (the one set at an earlier start), or generated and printed once on the first start"
	if password != "" {
		passwordFrom = "the environment variable " + EngineAdminPasswordEnv
	}
	if opts.AdminPasswordFile != "" {
		passwordFrom = "--admin-password-file " + opts.AdminPasswordFile
		b, err := os.ReadFile(opts.AdminPasswordFile)
		if err != nil {
			return Userf("Cannot read the admin password file: %v", err)
		}
		password, _, _ = strings.Cut(string(b), "\n")
		password = strings.TrimRight(password, "\r")
		if password == "" {
			return Userf("The admin password file %s is empty.", opts.AdminPasswordFile)
		}
	}
	app.Redactor.Add(password)
	app.Log.Info(fmt.Sprintf("Data directory %s, from %s.", opts.DataDir, dataFrom))
	app.Log.Info(fmt.Sprintf("Admin password (not shown) from %s.", passwordFrom))
	// Nothing the engine starts needs the password in its environment.
	os.Unsetenv(EngineAdminPasswordEnv)
	sb, err := engine.OpenSandbox()
	if err != nil {
		if !opts.InsecureNoSandbox {
			return Userf("Cannot start the engine: plugins must run in a sandbox, and %v. Run the engine on a Linux kernel that allows unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), or give --insecure-no-sandbox to run plugins unconfined.", err)
		}
		app.Log.Warn(fmt.Sprintf("Warning: plugins run WITHOUT a sandbox (--insecure-no-sandbox): %v. A plugin can read the engine's secrets and change its data.", err))
	} else if opts.InsecureNoSandbox {
		sb = nil
		app.Log.Warn("Warning: plugins run WITHOUT a sandbox (--insecure-no-sandbox): a plugin can read the engine's secrets and change its data.")
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return Userf("Cannot listen on %s: another program (another dvp engine?) listens there. Stop it, or give --listen 127.0.0.1:0 for a free port (with --ready-file FILE to learn which).", opts.Listen)
		}
		return Userf("Cannot listen on %s: %v", opts.Listen, err)
	}
	defer ln.Close()
	tls := opts.TLSCert != "" || opts.TLSKey != ""
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil && !tls {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			app.Log.Warn(fmt.Sprintf("Warning: the engine listens on %s without TLS: passwords cross the network in clear text. Give --tls-cert and --tls-key.", ln.Addr()))
		}
	}
	e, generated, err := engine.New(engine.Config{
		DataDir: opts.DataDir, AdminPassword: password, MaxUploadBytes: maxUpload,
		SessionTimeout: opts.SessionTimeout, UploadTokenTTL: opts.UploadTokenTTL, Log: app.Log, Redactor: app.Redactor,
		AllowShortPassword: opts.AllowShortPassword, BcryptCost: app.EngineBcryptCost,
		Sandbox: sb, Limits: limits, LibraryMemory: libMem, JobHeartbeat: opts.JobHeartbeat, WorkerInterval: opts.WorkerInterval,
		SecretFiles: []string{opts.AdminPasswordFile, opts.TLSKey},
		Front: engine.FrontDoor{
			Hostnames: opts.Hostnames, HeaderTimeout: opts.HeaderTimeout, BodyTimeout: opts.BodyTimeout,
			UploadIdleTimeout: opts.UploadIdleTimeout, IdleTimeout: opts.IdleTimeout, MaxHeaderBytes: int(maxHeader),
			MaxConns: opts.MaxConnections, MaxUnauthenticated: opts.MaxUnauthenticated,
		},
	})
	if err != nil {
		return Userf("Cannot start the engine: %v", err)
	}
	defer e.Close()
	if generated != "" {
		app.Redactor.Add(generated)
		fmt.Fprintf(app.IO.Out, "Generated the password of user %s: %s\n", engine.AdminUser, generated)
		fmt.Fprintf(app.IO.Out, "It is shown only this once. To choose it, set %s or give --admin-password-file.\n", EngineAdminPasswordEnv)
	}
	ready := func(url string) {
		fmt.Fprintf(app.IO.Out, "dvp engine listening on %s (data in %s)\n", url, opts.DataDir)
		fmt.Fprintf(app.IO.Out, "Plugin isolation: %s\n", sb.Describe())
		app.Log.Info("engine started", "url", url, "data_dir", opts.DataDir)
		if opts.ReadyFile != "" {
			if err := fsutil.WriteFile(opts.ReadyFile, []byte(url+"\n"), 0o644); err != nil {
				app.Log.Error(fmt.Sprintf("Cannot write the ready file %s: %v", opts.ReadyFile, err))
			}
		}
	}
	err = e.Serve(ctx, engine.ServeOptions{Listener: ln, TLSCert: opts.TLSCert, TLSKey: opts.TLSKey, Ready: ready})
	if opts.ReadyFile != "" {
		os.Remove(opts.ReadyFile)
	}
	if err != nil {
		return Userf("The engine stopped: %v", err)
	}
	fmt.Fprintln(app.IO.Out, "dvp engine stopped")
	if sig := app.interrupt.signal(); sig != nil {
		app.Log.Info("engine stopped", "signal", sig.String())
	}
	if ctx.Err() != nil {
		// A signal stopped it, gracefully: it exits 130/143 like every
		// command, saying what it kept.
		app.leave("the engine stopped gracefully (jobs still running were canceled) and kept its data in %s", opts.DataDir)
		return ctx.Err()
	}
	return nil
}
