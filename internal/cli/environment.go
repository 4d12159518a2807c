package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/upload"
	"github.com/spf13/cobra"
)

// ObjectOptions are the options every engine-object command shares: the
// engine connection of upload, --output and --timeout.
type ObjectOptions struct {
	ConnectionOptions
	Output  string
	Timeout time.Duration
}

func addObjectFlags(cmd *cobra.Command, o *ObjectOptions) {
	addConnectionFlags(cmd, &o.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Hour, "how long to wait for the job at most")
}

// objectRunE wraps a command body with the checks and the login every
// object command does.
func objectRunE(app *App, o *ObjectOptions, check func(cmd *cobra.Command, args []string) error, run func(ctx context.Context, c *upload.Client, args []string) error) func(*cobra.Command, []string) error {
	return runE(func(cmd *cobra.Command, args []string) error {
		if err := checkOutputFlag(o.Output); err != nil {
			return err
		}
		if o.Timeout <= 0 {
			return Usagef("Invalid value for '--timeout': %s is not a positive duration.", o.Timeout)
		}
		conn, err := resolveConnection(cmd.Context(), app, cmd, &o.ConnectionOptions, func() error {
			if check != nil {
				return check(cmd, args)
			}
			return nil
		})
		if err != nil {
			return err
		}
		client, err := newClient(app, &o.ConnectionOptions, conn)
		if err != nil {
			return err
		}
		if err := client.Login(cmd.Context(), artifact.EngineAPIVersion, conn.user, conn.password); err != nil {
			return mapUploadError(err)
		}
		return run(cmd.Context(), client, args)
	})
}

// JobReport is the JSON form of a command that ran a job.
type JobReport struct {
	Result json.RawMessage   `json:"result"`
	Action string            `json:"action,omitempty"`
	Job    string            `json:"job,omitempty"`
	State  string            `json:"state,omitempty"`
	Events []upload.JobEvent `json:"events,omitempty"`
}

// postAndWait posts the request, follows its job (printing each event on
// stderr), and prints the result: the result reference in text, a
// JobReport in JSON. A failed job is a user error with the job's message
// and action.
func postAndWait(ctx context.Context, app *App, o *ObjectOptions, c *upload.Client, path string, body any) (*upload.PostResult, error) {
	res, err := c.Post(ctx, path, body)
	if err != nil {
		return nil, mapUploadError(err)
	}
	report := JobReport{Result: res.Result, Action: res.Action, Job: res.Job}
	if res.Job != "" {
		job, err := c.FollowJob(ctx, res.Job, o.Timeout, func(ev upload.JobEvent) {
			if app.Quiet == 0 && ev.State == nil {
				fmt.Fprintf(app.IO.Err, "%s %s\n", ev.Timestamp, ev.MessageDetails)
			}
		})
		if job != nil {
			report.State, report.Events = job.JobState, job.Events
		}
		if err != nil {
			return nil, mapUploadError(err)
		}
		if job.JobState != "COMPLETED" {
			msg := fmt.Sprintf("The job %s (%s) %s.", job.Reference, job.Title, strings.ToLower(job.JobState))
			if n := len(job.Events); n > 0 {
				last := job.Events[n-1]
				msg = last.MessageDetails
				if last.MessageAction != nil && *last.MessageAction != "" {
					msg += "\nAction: " + *last.MessageAction
				}
			}
			if o.Output == "json" {
				writeJSON(app, report)
			}
			return nil, &UserError{Msg: msg}
		}
		if n := len(job.Events); n > 0 && app.Quiet == 0 {
			fmt.Fprintf(app.IO.Err, "%s %s\n", job.Events[n-1].Timestamp, job.Events[n-1].MessageDetails)
		}
	}
	if o.Output == "json" {
		return res, writeJSON(app, report)
	}
	var s string
	if json.Unmarshal(res.Result, &s) == nil && s != "" {
		fmt.Fprintln(app.IO.Out, s)
	}
	return res, nil
}

func writeJSON(app *App, v any) error {
	enc := json.NewEncoder(app.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readParams reads --params: inline JSON, or @FILE. The value must be a
// JSON object.
func readParams(flag, v string) (json.RawMessage, error) {
	if v == "" {
		return json.RawMessage(`{}`), nil
	}
	data := []byte(v)
	if strings.HasPrefix(v, "@") {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, Usagef("Invalid value for '%s': cannot read %s: %v.", flag, v[1:], err)
		}
		data = b
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		why := "it is not a JSON object"
		if err != nil {
			why = err.Error()
		}
		return nil, Usagef("Invalid value for '%s': %s (give a JSON object, or @FILE for a file holding one).", flag, why)
	}
	return json.RawMessage(data), nil
}

// listObjects prints a list resource: one line per object in text (the
// columns given), the list in JSON.
func listObjects(ctx context.Context, app *App, o *ObjectOptions, c *upload.Client, path string, columns ...string) error {
	raw, err := c.Get(ctx, path)
	if err != nil {
		return mapUploadError(err)
	}
	if o.Output == "json" {
		var v any
		json.Unmarshal(raw, &v)
		return writeJSON(app, v)
	}
	var items []map[string]any
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	for _, it := range items {
		var cols []string
		for _, col := range columns {
			v := it[col]
			switch x := v.(type) {
			case string:
				cols = append(cols, x)
			default:
				b, _ := json.Marshal(x)
				cols = append(cols, string(b))
			}
		}
		fmt.Fprintln(app.IO.Out, strings.Join(cols, "\t"))
	}
	return nil
}

// ---- dvp environment ----

// EnvironmentAddOptions are the inputs of dvp environment add.
type EnvironmentAddOptions struct {
	ObjectOptions
	Local                 bool
	Host                  string
	Port                  int
	User                  string
	SSHKey                string
	KnownHosts            string
	InsecureIgnoreHostKey bool
}

func newEnvironmentCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "environment",
		Short: "Add, refresh and list the environments of an engine",
		Long: `Environments are the hosts an engine runs plugin operations on: this host
(--local, commands run as the engine's user) or a host reached over SSH.
Adding or refreshing an environment runs discovery with every installed plugin.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newEnvironmentAddCmd(app), newEnvironmentRefreshCmd(app), newEnvironmentListCmd(app), newEnvironmentDeleteCmd(app))
	return cmd
}

func newEnvironmentAddCmd(app *App) *cobra.Command {
	o := EnvironmentAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME (--local | --host [USER@]H [--port P] [--ssh-user U] --ssh-key FILE [--known-hosts F | --insecure-ignore-host-key])",
		Short: "Add an environment and discover its repositories",
		Long: `Add registers an environment with the engine, checks that commands run there,
and runs discovery (repositories, then source configs) with every installed
plugin, printing the job's events. The environment's reference is printed.

An SSH environment's host key is checked against --known-hosts (default: the
engine user's ~/.ssh/known_hosts); --insecure-ignore-host-key turns the check
off, for test hosts only. The engine reads the --ssh-key file itself.`,
		Example: `  dvp environment add staging --local -e http://127.0.0.1:8780 -u admin
  dvp environment add source --host delphix@10.0.0.5 --ssh-key ~/.ssh/id_ed25519 --known-hosts ~/.ssh/known_hosts`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			if err := mutuallyExclusive(cmd, app.Args, []string{"local", "host"}); err != nil {
				return err
			}
			if err := mutuallyExclusive(cmd, app.Args, []string{"known-hosts", "insecure-ignore-host-key"}); err != nil {
				return err
			}
			if !o.Local && o.Host == "" {
				return Usagef("Give --local for this host, or --host (with --user and --ssh-key) for an SSH host.")
			}
			if u, h, ok := strings.Cut(o.Host, "@"); ok && o.User == "" {
				o.User, o.Host = u, h
			}
			if o.Host != "" {
				if o.User == "" || o.SSHKey == "" {
					return Usagef("An SSH environment needs --ssh-user (or --host USER@HOST) and --ssh-key.")
				}
				if err := checkExistingFile("", "--ssh-key", o.SSHKey); err != nil {
					return err
				}
				if o.KnownHosts != "" {
					if err := checkExistingFile("", "--known-hosts", o.KnownHosts); err != nil {
						return err
					}
				}
			}
			return nil
		}, func(ctx context.Context, c *upload.Client, args []string) error {
			body := map[string]any{"type": "EnvironmentCreateParameters", "name": args[0]}
			if o.Local {
				body["hostType"] = "local"
			} else {
				key, _ := filepath.Abs(o.SSHKey)
				body["hostType"], body["host"], body["port"], body["user"], body["sshKeyFile"] = "ssh", o.Host, o.Port, o.User, key
				if o.KnownHosts != "" {
					kh, _ := filepath.Abs(o.KnownHosts)
					body["knownHostsFile"] = kh
				}
				body["insecureIgnoreHostKey"] = o.InsecureIgnoreHostKey
			}
			_, err := postAndWait(ctx, app, &o.ObjectOptions, c, "delphix/environment", body)
			return err
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.BoolVar(&o.Local, "local", false, "this host: commands run as the engine's user")
	f.StringVar(&o.Host, "host", "", "the SSH host (name or address)")
	f.IntVar(&o.Port, "port", 22, "the SSH port")
	f.StringVar(&o.User, "ssh-user", "", "the SSH user (or give --host USER@HOST); -u/--user is the engine's user, as for every engine command")
	f.StringVar(&o.SSHKey, "ssh-key", "", "the private key file the engine logs in with (no passphrase)")
	f.StringVar(&o.KnownHosts, "known-hosts", "", "the known_hosts file the host key is checked against (default: ~/.ssh/known_hosts of the engine's user)")
	f.BoolVar(&o.InsecureIgnoreHostKey, "insecure-ignore-host-key", false, "do not check the host key (test hosts only)")
	return cmd
}

func newEnvironmentRefreshCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "refresh NAME",
		Short: "Run discovery on an environment again",
		Args:  cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *upload.Client, args []string) error {
			_, err := postAndWait(ctx, app, &o, c, "delphix/environment/"+upload.PathEscape(args[0])+"/refresh", map[string]any{})
			return err
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newEnvironmentDeleteCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an environment no dSource or VDB uses",
		Args:  cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *upload.Client, args []string) error {
			_, err := postAndWait(ctx, app, &o, c, "delphix/environment/"+upload.PathEscape(args[0])+"/delete", map[string]any{})
			return err
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newEnvironmentListCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the environments and their repositories",
		Args:  cobra.NoArgs,
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *upload.Client, args []string) error {
			return listObjects(ctx, app, &o, c, "delphix/environment", "reference", "name", "hostType", "user", "host")
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}
