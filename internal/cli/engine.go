package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/internal/engine"
)

// EngineAdminPasswordEnv sets the admin password of dvp engine serve.
const EngineAdminPasswordEnv = engine.AdminPasswordEnv

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
	opts := engine.RunOptions{}
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
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return checkServeFiles(cmd, opts)
		},
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
	f.IntVar(&opts.MaxJobs, "max-jobs", engine.DefaultMaxJobs, "the most jobs clients started that have not ended (running or queued), in all; one session may hold half, more are refused with 503 or 429")
	f.IntVar(&opts.KeepJobs, "keep-jobs", engine.DefaultKeepJobs, "the ended jobs kept, with their events and actions, beyond those never deleted (running, each object's latest, those an object names); 0: all")
	f.DurationVar(&opts.KeepJobsFor, "keep-jobs-for", engine.DefaultKeepJobsFor, "how long an ended job is kept after its last event (0: for ever)")
	f.StringVar(&opts.ReadyFile, "ready-file", "", "write the engine's URL to this file once it accepts connections")
	def := engine.DefaultLimits()
	f.BoolVar(&opts.InsecureNoSandbox, "insecure-no-sandbox", false, "run plugins without a sandbox where the kernel cannot sandbox them (plugins can then read the engine's secrets)")
	f.StringVar(&opts.MaxMemory, "max-memory", "8GiB", "the data (heap) size limit of each process of a plugin operation, and for a root engine the memory of a plugin process and its commands together (bytes, or with KiB, MiB, GiB)")
	f.IntVar(&opts.MaxProcesses, "max-processes", def.Processes, "the processes and threads of a plugin process with everything it starts, its commands on local environments included (a root engine counts them together; an engine that is not root gives the plugin process a quarter and each command 3/64)")
	f.IntVar(&opts.MaxOpenFiles, "max-open-files", def.OpenFiles, "the open files of each process of a plugin operation")
	f.DurationVar(&opts.MaxCPUTime, "max-cpu-time", time.Duration(def.CPUSeconds)*time.Second, "the CPU time of each process of a plugin operation")
	f.StringVar(&opts.MaxPluginScratch, "max-plugin-scratch", "256MiB", "the size of a plugin process's work directory, a private scratch space in memory (bytes, or with KiB, MiB, GiB)")
	f.StringVar(&opts.MaxLibraryMemory, "max-library-memory", "1GiB", "the engine's memory for the library calls of all plugins at once (their requests and the output of their commands); a plugin process may use half of it, a call beyond is refused saying so (bytes, or with KiB, MiB, GiB)")
	f.StringArrayVar(&opts.Hostnames, "hostname", nil, "a further name the engine answers to in the Host header, besides localhost, loopback addresses and the --listen host (repeatable)")
	f.DurationVar(&opts.HeaderTimeout, "header-timeout", engine.DefaultHeaderTimeout, "how long a request's headers may take to arrive")
	f.DurationVar(&opts.BodyTimeout, "body-timeout", engine.DefaultBodyTimeout, "how long a JSON request body may take to arrive")
	f.DurationVar(&opts.UploadIdleTimeout, "upload-idle-timeout", engine.DefaultUploadIdleTimeout, "the longest pause without a byte in an upload's body")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", engine.DefaultIdleTimeout, "how long a keep-alive connection may stay idle between requests")
	f.StringVar(&opts.MaxHeaderSize, "max-header-size", "64KiB", "the largest request line and headers accepted (answered 414/431 beyond)")
	f.IntVar(&opts.MaxConnections, "max-connections", engine.DefaultMaxConns, "the most connections held at once (at the cap, the one idle longest is closed once idle 1s, else a new one waits up to 5s, then gets 503)")
	f.IntVar(&opts.MaxUnauthenticated, "max-unauthenticated", engine.DefaultMaxUnauthenticated, "the most requests without a logged-in session answered at once")
	f.DurationVar(&opts.WorkerInterval, "worker-interval", engine.DefaultWorkerInterval, "how often the plugin's linked.worker runs for each enabled STAGED dSource (0: never)")
	f.BoolVar(&opts.AllowShortPassword, "allow-short-password", false, fmt.Sprintf("accept an admin password shorter than %d characters (a test engine only)", engine.MinPasswordLength))
	return cmd
}

// checkServeFiles refuses, before the engine starts (and generates a
// password), an empty --listen and a file flag of dvp engine serve naming
// a directory, a FIFO or a device. A missing file is the engine's error:
// exit 1 for --admin-password-file, exit 2 for --tls-cert and --tls-key
// (engine.Run reads them before it starts anything).
func checkServeFiles(cmd *cobra.Command, opts engine.RunOptions) error {
	if strings.TrimSpace(opts.Listen) == "" {
		// net.Listen would take "" for every interface on a random port.
		return Usagef("Invalid value for '--listen': the address is empty; give HOST:PORT, such as %s (127.0.0.1:0 picks a free port).", engine.DefaultListen)
	}
	if err := checkListen(opts.Listen); err != nil {
		return err
	}
	for _, f := range []struct{ name, path string }{
		{"tls-cert", opts.TLSCert}, {"tls-key", opts.TLSKey}, {"admin-password-file", opts.AdminPasswordFile},
	} {
		if cmd.Flags().Changed(f.name) {
			if err := checkFileKind("--"+f.name, f.path); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkListen refuses a --listen that is not HOST:PORT with a port number
// (a usage error, before the engine starts): net.Listen's own words
// ("missing port in address", "lookup tcp/abc: unknown port") came after
// the engine had begun to start, with exit 1. A host that does not
// resolve stays the engine's error (exit 1): the command line is right.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		example := engine.DefaultListen
		if n, err := strconv.Atoi(addr); err == nil && n >= 0 && n <= 65535 {
			example = "127.0.0.1:" + addr // a port alone
		} else if h := strings.Trim(addr, "[]"); net.ParseIP(h) != nil || !strings.Contains(addr, ":") {
			example = net.JoinHostPort(h, "8780") // a host alone
		}
		return Usagef("Invalid value for '--listen': %q is not HOST:PORT; give one such as %s (port 0 picks a free port).", addr, example)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return Usagef("Invalid value for '--listen': the port %q of %q is not a number from 0 to 65535; give HOST:PORT such as %s (port 0 picks a free port).", port, addr, net.JoinHostPort(host, "8780"))
	}
	return nil
}

// runEngineServe runs engine.Run with the App's I/O, logger and redactor,
// and says, after a signal stopped it, what it kept.
func runEngineServe(ctx context.Context, app *App, opts engine.RunOptions) error {
	opts.Home, opts.Getenv, opts.Out, opts.Quiet = app.IO.Home, app.IO.Env, app.IO.Out, app.Quiet
	opts.Log, opts.Redactor, opts.BcryptCost = app.Log, app.Redactor, app.EngineBcryptCost
	dataDir, err := engine.Run(ctx, opts)
	var flagErr *engine.FlagError
	switch {
	case errors.As(err, &flagErr):
		return Usagef("%s", flagErr.Msg)
	case err != nil:
		return Userf("%s", err)
	}
	if sig := app.interrupt.signal(); sig != nil {
		// The interrupt line names the signal; -vv logs it too.
		app.Log.Debug("engine stopped", "signal", sig.String())
	}
	if ctx.Err() != nil {
		// A signal stopped it, gracefully: it exits 130/143 like every
		// command, saying what it kept.
		app.leave("the engine stopped gracefully (jobs still running were canceled) and kept its data in %s", dataDir)
		return ctx.Err()
	}
	return nil
}
