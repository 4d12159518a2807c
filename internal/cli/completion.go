package cli

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/settings"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Shell completion: the values of every flag with a fixed set of values,
// and the names of engine objects, read from the engine the command would
// talk to (-e/-u/--password, DVP_*, ~/.dvp/config) when one is configured
// with a password: 1.5 s at most, and nothing (no prompt, no
// message) when it cannot be read.

// completionTimeout bounds what completing from the engine may take;
// DVP_COMPLETION_TIMEOUT (a Go duration) changes it, for a slow engine.
const completionTimeout = 1500 * time.Millisecond

// maxCompletedJobs bounds the jobs completion offers (the newest).
const maxCompletedJobs = 50

func completionBudget(app *App) time.Duration {
	if d, err := time.ParseDuration(app.IO.Env("DVP_COMPLETION_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return completionTimeout
}

// flagValues are the fixed values of flags, by flag name.
var flagValues = map[string][]string{
	"output":             {"text", "json"},
	"ingestion-strategy": {protocol.PluginTypeDirect, protocol.PluginTypeStaged},
	"host-type":          {artifact.HostTypeUnix, artifact.HostTypeWindows},
}

// flagFiles are the file name extensions of flags that name a file, by flag
// name; flagDirs the flags that name a directory.
var (
	flagFiles = map[string][]string{
		"plugin-config":   {"yml", "yaml"},
		"upload-artifact": {"json"},
		"baseline":        {"json"},
		"file":            {"yml", "yaml"},
	}
	flagDirs = []string{"root-dir", "directory", "data-dir"}
	// flagAnyFiles name a file of any name (a key, a certificate, a
	// password file, --params @FILE): the shell completes file names.
	// Every other flag that takes a value completes what the maps above
	// say, or nothing: never file names after --timeout or --user.
	flagAnyFiles = map[string]bool{
		"ca-file": true, "ssh-key": true, "known-hosts": true, "tls-cert": true, "tls-key": true,
		"admin-password-file": true, "ready-file": true, "junit": true, "params": true, "snapshot-params": true,
	}
)

// objectKind is a kind of engine object that completion lists.
type objectKind int

const (
	kindNone objectKind = iota
	kindEnvironment
	kindSourceConfig
	kindDSource
	kindVDB
	kindContainer
	kindJobObject // what jobs work on: dSources, VDBs and environments
	kindSnapshot
	kindToolkit
	kindRepository
	kindJob        // the jobs (references, with their titles)
	kindRunningJob // the running jobs
)

// flagObjects are the flags naming engine objects.
var flagObjects = map[string]objectKind{
	"environment":         kindEnvironment,
	"staging-environment": kindEnvironment,
	"source-config":       kindSourceConfig,
	"snapshot":            kindSnapshot,
	"repository":          kindRepository,
	"object":              kindJobObject,
}

// argObjects is the kind of the first argument of a command, by the names
// of its group and itself.
func argObjects(cmd *cobra.Command) objectKind {
	if !cmd.HasParent() {
		return kindNone
	}
	group, name := cmd.Parent().Name(), cmd.Name()
	switch {
	case name == "list" && group != "snapshot", name == "add", name == "link", name == "provision", name == "create-empty":
		return kindNone // the argument is a new name, or there is none
	case group == "environment":
		return kindEnvironment
	case group == "source-config":
		return kindSourceConfig
	case group == "dsource":
		return kindDSource
	case group == "vdb":
		return kindVDB
	case group == "snapshot":
		return kindContainer
	case group == "toolkit":
		return kindToolkit
	case group == "job" && name == "show":
		return kindJob
	case group == "job":
		return kindRunningJob
	}
	return kindNone
}

// addCompletions registers the completions of every command of the tree.
func addCompletions(app *App, root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, values := range flagValues {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		for name, exts := range flagFiles {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(exts, cobra.ShellCompDirectiveFilterFileExt))
			}
		}
		for _, name := range flagDirs {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs))
			}
		}
		if !c.HasSubCommands() && c.ValidArgsFunction == nil && len(argNames(c)) == 0 && c.Name() != "help" {
			// A command that takes no arguments completes no file names.
			c.ValidArgsFunction = cobra.FixedCompletions(nil, cobra.ShellCompDirectiveNoFileComp)
		}
		if c.Flags().Lookup(settings.KeyEngine) != nil {
			for name, kind := range flagObjects {
				if c.Flags().Lookup(name) != nil {
					kind := kind
					c.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
						return engineNames(app, cmd, kind), cobra.ShellCompDirectiveNoFileComp
					})
				}
			}
			if kind := argObjects(c); kind == kindNone && c.ValidArgsFunction == nil && len(argNames(c)) > 0 {
				// A new object's name: nothing to complete, no file names.
				c.ValidArgsFunction = cobra.FixedCompletions(nil, cobra.ShellCompDirectiveNoFileComp)
			} else if kind != kindNone && c.ValidArgsFunction == nil {
				c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
					if len(args) > 0 {
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
					return engineNames(app, cmd, kind), cobra.ShellCompDirectiveNoFileComp
				}
			}
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if t := f.Value.Type(); t == "bool" || t == "count" || flagAnyFiles[f.Name] {
				return
			}
			if _, ok := c.GetFlagCompletionFunc(f.Name); !ok {
				c.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// engineNames lists the names of the objects of a kind on the engine cmd
// would talk to; nil when there is none configured or it does not answer.
func engineNames(app *App, cmd *cobra.Command, kind objectKind) []string {
	budget := completionBudget(app)
	c, user, password := completionClient(app, cmd, budget)
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	if c.Login(ctx, artifact.EngineAPIVersion, user, password) != nil {
		return nil
	}
	if kind == kindJob || kind == kindRunningJob {
		return jobNames(ctx, c, kind) // each a reference checked and its description escaped
	}
	if kind == kindSnapshot {
		return snapshotNames(ctx, c) // the same, with what each is a snapshot of
	}
	return completable(objectNames(ctx, c, cmd, kind))
}

// completionClient is the client of the engine cmd would talk to, with
// the user and password to log in with, from its flags, DVP_* and
// ~/.dvp/config; nil when they do not name an engine, a user and a
// password (completion never prompts) or the client cannot be made. It
// logs nothing and gives up after budget.
func completionClient(app *App, cmd *cobra.Command, budget time.Duration) (c *engineclient.Client, user, password string) {
	s, err := settings.Load(settings.Options{Home: app.IO.Home, Flags: cmd.Flags(), Getenv: app.IO.Getenv})
	if err != nil {
		return nil, "", ""
	}
	eng, _ := s.Get(settings.KeyEngine)
	user, _ = s.Get(settings.KeyUser)
	password, _ = s.Get(settings.KeyPassword)
	if eng == "" || user == "" || password == "" {
		return nil, "", ""
	}
	o := engineclient.Options{Engine: eng, ReadTimeout: budget, Log: slog.New(slog.DiscardHandler), UserAgent: "dvp/" + app.Version}
	if f := cmd.Flags().Lookup("ca-file"); f != nil {
		o.CAFile = f.Value.String()
	}
	if v, err := cmd.Flags().GetBool("insecure-skip-tls-verify"); err == nil {
		o.InsecureSkipVerify = v
	}
	c, err = app.EngineClient(o)
	if err != nil {
		return nil, "", ""
	}
	return c, user, password
}

// objectNames lists the names of the objects of a kind (not jobs) that
// the logged-in client c sees; what it cannot read is left out.
func objectNames(ctx context.Context, c *engineclient.Client, cmd *cobra.Command, kind objectKind) []string {
	switch kind {
	case kindEnvironment:
		return environmentNames(ctx, c)
	case kindJobObject:
		return append(containerNames(ctx, c, kindContainer), environmentNames(ctx, c)...)
	case kindSourceConfig:
		var names []string
		items, _ := c.ListSourceConfigs(ctx)
		for _, it := range items {
			names = append(names, it.Name)
		}
		return names
	case kindRepository:
		env, _ := cmd.Flags().GetString("environment")
		if env == "" {
			return nil
		}
		var names []string
		items, _ := c.ListRepositories(ctx, env)
		for _, it := range items {
			names = append(names, it.Name)
		}
		return names
	case kindDSource, kindVDB, kindContainer:
		return containerNames(ctx, c, kind)
	case kindToolkit:
		var names []string
		items, _ := c.ListToolkits(ctx)
		for _, it := range items {
			names = append(names, it.Name)
		}
		return names
	}
	return nil
}

func environmentNames(ctx context.Context, c *engineclient.Client) []string {
	var names []string
	items, _ := c.ListEnvironments(ctx)
	for _, it := range items {
		names = append(names, it.Name)
	}
	return names
}

// containerNames are the names of the dSources (kindDSource), the VDBs
// (kindVDB) or both (kindContainer).
func containerNames(ctx context.Context, c *engineclient.Client, kind objectKind) []string {
	var names []string
	items, _ := c.ListContainers(ctx)
	for _, it := range items {
		if kind == kindContainer || kind == kindDSource && it.ContainerType == engineapi.ContainerDSource || kind == kindVDB && it.ContainerType == engineapi.ContainerVDB {
			names = append(names, it.Name)
		}
	}
	return names
}

// jobNames are the references of the jobs (kindRunningJob: the running
// ones), the newest first and at most maxCompletedJobs, each with what it
// does as its description; references a shell cannot offer as they are
// are left out and descriptions escaped.
func jobNames(ctx context.Context, c *engineclient.Client, kind objectKind) []string {
	state := ""
	if kind == kindRunningJob {
		state = engineapi.JobRunning
	}
	var names []string
	items, _ := c.ListJobs(ctx, state, "")
	for i := len(items) - 1; i >= 0 && len(names) < maxCompletedJobs; i-- {
		if !completableName(items[i].Reference) {
			continue
		}
		desc := strings.NewReplacer("\t", " ", "\n", " ").Replace(termsafe.String(jobState(&items[i]) + " " + items[i].Title))
		names = append(names, items[i].Reference+"\t"+desc)
	}
	return names
}

// snapshotNames are the references of the snapshots of every dSource and
// VDB, each with the name of what it is a snapshot of and when it was
// taken as its description (a reference alone does not say which to
// pick); references a shell cannot offer as they are are left out and
// descriptions escaped.
func snapshotNames(ctx context.Context, c *engineclient.Client) []string {
	var names []string
	items, _ := c.ListContainers(ctx)
	for _, it := range items {
		snaps, _ := c.ListSnapshots(ctx, it.Reference)
		for _, sn := range snaps {
			if !completableName(sn.Reference) {
				continue
			}
			desc := strings.NewReplacer("\t", " ", "\n", " ").Replace(termsafe.String(it.Name + " " + sn.Timestamp))
			names = append(names, sn.Reference+"\t"+desc)
		}
	}
	return names
}

// maxCompletedName bounds the length of a name completion offers.
const maxCompletedName = 256

// completable keeps the names a shell can offer as they are: the engine's
// answers are not trusted, and a name holding a line break would be two
// completions, a tab would start a description, an escape sequence would
// reach the terminal. Names that are empty, too long or hold a control
// character are left out.
func completable(names []string) []string {
	out := names[:0]
	for _, n := range names {
		if completableName(n) {
			out = append(out, n)
		}
	}
	return out
}

// completableName reports whether completion may offer name as it is.
func completableName(name string) bool {
	return name != "" && len(name) <= maxCompletedName && !strings.ContainsFunc(name, unicode.IsControl)
}
