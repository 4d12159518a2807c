package cli

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvironmentAddOptions are the inputs of dvp environment add.
type EnvironmentAddOptions struct {
	ObjectOptions
	Local                 bool
	OSUser                string
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
		Short: "Add, update, refresh, delete and list the environments of an engine",
		Long: `Environments are the hosts an engine runs plugin operations on: this host
(--local, commands run as the engine's user or --os-user) or a host reached
over SSH.
Adding or refreshing an environment runs discovery with every installed plugin.`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newEnvironmentAddCmd(app), newEnvironmentUpdateCmd(app), newEnvironmentRefreshCmd(app), newEnvironmentListCmd(app), newEnvironmentRepositoriesCmd(app), newEnvironmentDeleteCmd(app))
	})
	return cmd
}

func newEnvironmentAddCmd(app *App) *cobra.Command {
	o := EnvironmentAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME (--local [--os-user USER] | --host [USER@]H [--port P] [--ssh-user U] --ssh-key FILE [--known-hosts F | --insecure-ignore-host-key])",
		Short: "Add an environment and discover its repositories",
		Long: `Add registers an environment with the engine, checks that commands run there,
and runs discovery (repositories, then source configs) with every installed
plugin, printing the job's events. The environment's reference is printed.

An SSH environment's host key is checked against --known-hosts (default: the
engine user's ~/.ssh/known_hosts); --insecure-ignore-host-key turns the check
off, for test hosts only. The engine reads the --ssh-key file itself.

A local environment's commands (run_bash, run_expect, run_sync) run as the
engine's user, or as --os-user USER, which needs an engine running as root
(as a Delphix environment user). Its scratch path is ~USER/.dvp-scratch/<engine id>/<ref>;
mount paths must be in directories that only root, the engine's user or that
user can change ("Mounts" in dvp help local-engine).`,
		Example: `  dvp environment add staging --local -e http://127.0.0.1:8780 -u admin
  dvp environment add staging --local --os-user postgres
  dvp environment add source --host delphix@10.0.0.5 --ssh-key ~/.ssh/id_ed25519 --known-hosts ~/.ssh/known_hosts`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			return o.check(cmd, app.Args)
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.CreateEnvironment(ctx, o.parameters(args[0]))
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	o.addFlags(cmd.Flags())
	return cmd
}

// addFlags adds the flags of the environment dvp environment add makes.
func (o *EnvironmentAddOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Local, "local", false, "this host: commands run as the engine's user (or --os-user)")
	f.StringVar(&o.OSUser, "os-user", "", "with --local: the OS user commands run as (an engine running as root only)")
	f.StringVar(&o.Host, "host", "", "the SSH host (name or address; USER@HOST sets the SSH user too)")
	f.IntVar(&o.Port, "port", 22, "the SSH port")
	f.StringVar(&o.User, "ssh-user", "", "the SSH user (or give --host USER@HOST); -u/--user is the engine's user, as for every engine command")
	f.StringVar(&o.SSHKey, "ssh-key", "", "the private key file the engine logs in with (no passphrase)")
	f.StringVar(&o.KnownHosts, "known-hosts", "", "the known_hosts file the host key is checked against (default: ~/.ssh/known_hosts of the engine's user)")
	f.BoolVar(&o.InsecureIgnoreHostKey, "insecure-ignore-host-key", false, "do not check the host key (test hosts only)")
}

// check checks the flags of dvp environment add (args: the command line,
// for the order of mutually exclusive flags) before anything is sent: a
// local or an SSH host, and for SSH a user and a key file.
func (o *EnvironmentAddOptions) check(cmd *cobra.Command, args []string) error {
	if err := exclusiveFlags(cmd, args, []string{"local", "host"}); err != nil {
		return err
	}
	if err := exclusiveFlags(cmd, args, []string{"known-hosts", "insecure-ignore-host-key"}); err != nil {
		return err
	}
	if o.OSUser != "" && !o.Local {
		return Usagef("--os-user names the OS user of a local environment: give it with --local (an SSH environment's user is --ssh-user).")
	}
	if !o.Local && o.Host == "" {
		return Usagef("Give --local for this host, or --host (with --ssh-user and --ssh-key) for an SSH host.")
	}
	if o.Local {
		// They would be dropped without a word.
		for _, name := range []string{"port", "ssh-user", "ssh-key", "known-hosts", "insecure-ignore-host-key"} {
			if cmd.Flags().Changed(name) {
				return Usagef("--%s is for an SSH environment (--host), not a local one (--local): leave it out, or give --host instead of --local.", name)
			}
		}
	}
	if u, h, ok := strings.Cut(o.Host, "@"); ok && o.User == "" {
		o.User, o.Host = u, h
	}
	if o.Host == "" {
		return nil
	}
	if o.User == "" || o.SSHKey == "" {
		return Usagef("An SSH environment needs --ssh-user (or --host USER@HOST) and --ssh-key.")
	}
	if err := checkPort(o.Port); err != nil {
		return err
	}
	if err := checkExistingFile("", "--ssh-key", o.SSHKey); err != nil {
		return err
	}
	if o.KnownHosts != "" {
		return checkExistingFile("", "--known-hosts", o.KnownHosts)
	}
	return nil
}

// checkPort refuses an SSH port that is no TCP port before anything is
// sent (the engine refused it, exit 1, after the login).
func checkPort(port int) error {
	if port < 1 || port > 65535 {
		return Usagef("Invalid value for '--port': %d is not a TCP port; give the host's SSH port, a number from 1 to 65535 (22 unless its sshd says otherwise).", port)
	}
	return nil
}

// parameters are the engine's parameters of the environment called name
// (file paths made absolute: the engine reads them itself).
func (o *EnvironmentAddOptions) parameters(name string) engineapi.EnvironmentCreateParameters {
	p := engineapi.EnvironmentCreateParameters{Name: name, HostType: engineapi.HostLocal, OSUser: o.OSUser}
	if !o.Local {
		key, _ := filepath.Abs(o.SSHKey)
		p.HostType, p.Host, p.Port, p.User, p.SSHKeyFile = engineapi.HostSSH, o.Host, o.Port, o.User, key
		if o.KnownHosts != "" {
			p.KnownHostsFile, _ = filepath.Abs(o.KnownHosts)
		}
		p.InsecureIgnoreHostKey = o.InsecureIgnoreHostKey
	}
	return p
}

// EnvironmentUpdateOptions are the inputs of dvp environment update.
type EnvironmentUpdateOptions struct {
	ObjectOptions
	Host                  string
	Port                  int
	User                  string
	SSHKey                string
	KnownHosts            string
	InsecureIgnoreHostKey bool
	OSUser                string
	portGiven             bool
	osUserGiven           bool
}

func newEnvironmentUpdateCmd(app *App) *cobra.Command {
	o := EnvironmentUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update NAME [--host [USER@]H] [--port P] [--ssh-user U] [--ssh-key FILE] [--known-hosts F | --insecure-ignore-host-key] | --os-user USER",
		Short: "Change the host, port, user, key or known hosts of an SSH environment, or a local one's OS user",
		Long: `Update changes the SSH settings of an environment: only the options given
change. Its job checks that the engine can run commands on the host with the
new settings and keeps them only then (a failed check leaves the environment
as it was); a new host is discovered again, as by dvp environment refresh.

A new host or SSH user is refused while a dSource or VDB runs on the
environment (as staging, source or target, or with a mount there): their data
and mounts are on the old host. The refusal names them. A new port, key or
known_hosts file is always allowed.

A local environment's --os-user changes the OS user its commands run as
(--os-user '' : the engine's own user); it needs an engine running as root
with the sandbox, moves the scratch path to that user's home, runs discovery
again, and is refused while a dSource or VDB runs on the environment.`,
		Example: `  dvp environment update source --ssh-key ~/.ssh/id_new
  dvp environment update source --host delphix@10.0.0.6 --known-hosts ~/.ssh/known_hosts
  dvp environment update staging --os-user postgres`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			return o.check(cmd, app.Args)
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.UpdateEnvironment(ctx, args[0], o.parameters())
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	o.addFlags(cmd.Flags())
	return cmd
}

// addFlags adds the flags of what dvp environment update changes.
func (o *EnvironmentUpdateOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Host, "host", "", "the new SSH host (name or address; USER@HOST sets the user too)")
	f.IntVar(&o.Port, "port", 0, "the new SSH port")
	f.StringVar(&o.User, "ssh-user", "", "the new SSH user")
	f.StringVar(&o.SSHKey, "ssh-key", "", "the new private key file the engine logs in with (no passphrase)")
	f.StringVar(&o.KnownHosts, "known-hosts", "", "the known_hosts file the host key is checked against from now on (turns the check back on)")
	f.BoolVar(&o.InsecureIgnoreHostKey, "insecure-ignore-host-key", false, "stop checking the host key (test hosts only)")
	f.StringVar(&o.OSUser, "os-user", "", "a local environment's new OS user ('': the engine's own user; another needs a root engine)")
}

// check checks the flags of dvp environment update (args: the command
// line, for the order of mutually exclusive flags) before anything is
// sent: something to change, one SSH user, the files named.
func (o *EnvironmentUpdateOptions) check(cmd *cobra.Command, args []string) error {
	if err := exclusiveFlags(cmd, args, []string{"known-hosts", "insecure-ignore-host-key"}); err != nil {
		return err
	}
	f := cmd.Flags()
	o.portGiven, o.osUserGiven = f.Changed("port"), f.Changed("os-user")
	if !(f.Changed("host") || f.Changed("port") || f.Changed("ssh-user") || f.Changed("ssh-key") || f.Changed("known-hosts") || f.Changed("insecure-ignore-host-key") || o.osUserGiven) {
		return Usagef("Nothing to change: give --host, --port, --ssh-user, --ssh-key, --known-hosts or --insecure-ignore-host-key (an SSH environment), or --os-user (a local one).")
	}
	if o.portGiven {
		if err := checkPort(o.Port); err != nil {
			return err
		}
	}
	if u, h, ok := strings.Cut(o.Host, "@"); ok {
		if f.Changed("ssh-user") && o.User != u {
			return Usagef("Give the SSH user once: --host %s@%s and --ssh-user %s differ.", u, h, o.User)
		}
		o.User, o.Host = u, h
	}
	if o.SSHKey != "" {
		if err := checkExistingFile("", "--ssh-key", o.SSHKey); err != nil {
			return err
		}
	}
	if o.KnownHosts != "" {
		return checkExistingFile("", "--known-hosts", o.KnownHosts)
	}
	return nil
}

// parameters are the engine's parameters of the update: only what was
// given changes (file paths made absolute for the engine).
func (o *EnvironmentUpdateOptions) parameters() engineapi.EnvironmentUpdateParameters {
	p := engineapi.EnvironmentUpdateParameters{}
	if o.Host != "" {
		p.Host = &o.Host
	}
	if o.User != "" {
		p.User = &o.User
	}
	if o.portGiven {
		p.Port = &o.Port
	}
	if o.SSHKey != "" {
		key, _ := filepath.Abs(o.SSHKey)
		p.SSHKeyFile = &key
	}
	if o.KnownHosts != "" {
		kh, _ := filepath.Abs(o.KnownHosts)
		p.KnownHostsFile = &kh
		no := false
		p.InsecureIgnoreHostKey = &no
	}
	if o.InsecureIgnoreHostKey {
		p.InsecureIgnoreHostKey = &o.InsecureIgnoreHostKey
	}
	if o.osUserGiven {
		p.OSUser = &o.OSUser
	}
	return p
}

func newEnvironmentRefreshCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "refresh NAME",
		Short: "Run discovery on an environment again",
		Args:  cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.RefreshEnvironment(ctx, args[0])
			return printJob(ctx, app, &o, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newEnvironmentRepositoriesCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "repositories NAME",
		Short: "List the repositories discovered on an environment: the names source-config add --repository takes",
		Long: `Repositories lists the repositories the installed plugins discovered on an
environment (by its name or reference): reference, name, plugin, and whether
the last discovery still found it (a vanished repository is kept, marked
missing, while a dSource or VDB uses it). The name is what
dvp source-config add --repository takes.`,
		Example: "  dvp environment repositories source",
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			repos, err := c.ListRepositories(ctx, args[0])
			empty := "No repositories on " + args[0] + ": install a plugin that discovers them, then dvp environment refresh " + args[0] + "."
			return printList(app, &o, repos, err, listColumns{Header: []string{"REFERENCE", "NAME", "PLUGIN", "FOUND"}, Empty: empty}, func(r engineapi.Repository) []any {
				found := "yes"
				if r.Missing {
					found = "no (kept: in use)"
				}
				return []any{r.Reference, r.Name, r.Toolkit, found}
			})
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
		Long: `Delete removes an environment (by its name or reference) with its repositories
and source configs, and its scratch path on the host. It is refused while a
dSource or VDB uses it; the refusal names them.

` + deleteOutputHelp,
		Example: `  dvp environment delete staging`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			ref, name, err := lookUpOn(ctx, c.ListEnvironments, args[0], func(e engineapi.Environment) (string, string) { return e.Reference, e.Name })
			if err != nil {
				return err
			}
			return runDelete(ctx, app, &o, c, DeletedObject{Type: "environment", Reference: ref, Name: name}, "Deleted environment "+name+".",
				func() (*engineclient.Started, error) { return c.DeleteEnvironment(ctx, args[0]) })
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newEnvironmentListCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the environments: reference, name, host type, user and host",
		Args:  cobra.NoArgs,
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			envs, err := c.ListEnvironments(ctx)
			return printList(app, &o, envs, err, listColumns{Header: []string{"REFERENCE", "NAME", "HOST TYPE", "USER", "HOST"}, Empty: "No environments: add one with dvp environment add."}, func(e engineapi.Environment) []any {
				return []any{e.Reference, e.Name, e.HostType, e.User, e.Host}
			})
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}
