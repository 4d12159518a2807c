package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
)

// dvp dsource update and dvp vdb update change a dSource's or VDB's
// settings (POST delphix/database/{ref}); --hook is also taken by dvp
// dsource link and dvp vdb provision.

// UpdateOptions are the inputs of dvp dsource update and dvp vdb update.
type UpdateOptions struct {
	ObjectOptions
	Hooks  []string // --hook NAME=COMMAND|@FILE, NAME= to remove
	Policy PolicyOptions
}

// maxHookFileBytes bounds a hook read from a file (the engine takes
// commands of at most 64 KiB).
const maxHookFileBytes = 64 << 10

// hookHelp is the help of --hook for a container type.
func hookHelp(containerType string, forUpdate bool) string {
	h := "a hook: NAME=COMMAND, or NAME=@FILE for a script in a file (repeatable; a NAME given twice runs both commands, in order"
	if forUpdate {
		h += "; NAME= removes that hook"
	}
	return h + "). NAMEs: " + strings.Join(engineapi.HookNames(containerType), ", ")
}

// hookLong is the paragraph on hooks of a command's long help.
func hookLong(containerType string) string {
	if containerType == engineapi.ContainerDSource {
		return `Hooks are shell commands the engine runs with bash on the dSource's
environment (staging for a STAGED plugin, source for a DIRECT one), as that
environment's user: pre-sync before each sync (after a STAGED plugin's mount
specification), post-sync after it, even when the sync or pre-sync failed. A
hook that exits non-zero fails the job, naming the hook and quoting its
output. dvp help workflows ("Hooks") says when each one runs.`
	}
	return `Hooks are shell commands the engine runs with bash on the VDB's target
environment, as that environment's user: configure-clone after provision and
refresh; pre- and post-refresh, -rollback, -snapshot, -start and -stop around
those operations (the start and stop hooks also around enable and disable
when the plugin sets extendedStartStopHooks). A hook that exits non-zero
fails the job, naming the hook and quoting its output. dvp help workflows
("Hooks") says when each one runs.`
}

func containerNameOf(containerType string) string {
	if containerType == engineapi.ContainerDSource {
		return "dSource"
	}
	return "VDB"
}

// parseHooks turns --hook values into the hooks of a container type; with
// forUpdate, NAME= removes a hook (an empty list).
func parseHooks(values []string, containerType string, forUpdate bool) (engineapi.HookOperations, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := engineapi.HookOperations{}
	removed := map[string]bool{}
	for _, v := range values {
		name, cmd, ok := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, Usagef("Invalid value for '--hook': %q is not NAME=COMMAND, NAME=@FILE or NAME= (NAMEs: %s).", v, strings.Join(engineapi.HookNames(containerType), ", "))
		}
		h, known := engineapi.HookByName(name)
		if !known || h.Only != containerType {
			msg := fmt.Sprintf("Invalid value for '--hook': %q is not a hook of a %s", name, containerNameOf(containerType))
			if known {
				msg += fmt.Sprintf(" (it is a hook of %ss)", containerNameOf(h.Only))
			} else if s := closest(name, engineapi.HookNames(containerType)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if !strings.HasSuffix(msg, "?") {
				msg += "." // not "?." after a "did you mean"
			}
			return nil, Usagef("%s The hooks of a %s are %s.", msg, containerNameOf(containerType), strings.Join(engineapi.HookNames(containerType), ", "))
		}
		if cmd == "" {
			if !forUpdate {
				return nil, Usagef("Invalid value for '--hook': %q has no command (NAME= removes a hook in an update; here give NAME=COMMAND).", v)
			}
			if len(out[h.Key]) > 0 {
				return nil, Usagef("Invalid value for '--hook': %s= removes the hook that other --hook %s=... options set; give one or the other.", name, name)
			}
			removed[h.Key] = true
			out[h.Key] = []engineapi.HookOperation{}
			continue
		}
		if removed[h.Key] {
			return nil, Usagef("Invalid value for '--hook': %s= removes the hook that other --hook %s=... options set; give one or the other.", name, name)
		}
		if strings.HasPrefix(cmd, "@") {
			b, err := readHookFile(cmd[1:])
			if err != nil {
				return nil, err
			}
			cmd = b
		}
		if strings.TrimSpace(cmd) == "" {
			return nil, Usagef("Invalid value for '--hook': the command of %s is empty.", name)
		}
		out[h.Key] = append(out[h.Key], engineapi.HookOperation{Type: engineapi.TypeHookOperation, Command: cmd})
	}
	return out, nil
}

func readHookFile(path string) (string, error) {
	b, err := fsutil.ReadRegular(path, maxHookFileBytes)
	var big *fsutil.ErrTooLarge
	if errors.Is(err, fs.ErrNotExist) {
		// As --params @FILE and the other file flags say it.
		return "", Usagef("Invalid value for '--hook': File '%s' does not exist.", path)
	}
	if err != nil && !errors.As(err, &big) {
		return "", Usagef("Invalid value for '--hook': cannot read %s: %v.", path, err)
	}
	if big != nil {
		return "", Usagef("Invalid value for '--hook': %s is larger than %d bytes (a hook is a short script; put longer ones on the environment and run them from the hook).", path, maxHookFileBytes)
	}
	return string(b), nil
}

// updateParams builds the body of an update from the options.
func updateParams(o *UpdateOptions, containerType string) (engineapi.ContainerUpdateParameters, error) {
	var p engineapi.ContainerUpdateParameters
	ops, err := parseHooks(o.Hooks, containerType, true)
	if err != nil {
		return p, err
	}
	p.Operations = ops
	p.Policy = o.Policy.parsed
	if len(p.Operations) == 0 && p.Policy.IsZero() {
		return p, Usagef("Missing option: give what to change (--hook NAME=COMMAND, or NAME= to remove a hook; --%[1]s-every, --%[1]s-schedule, --keep-snapshots).", o.Policy.op)
	}
	return p, nil
}

func newUpdateCmd(app *App, containerType string) *cobra.Command {
	o := UpdateOptions{}
	kind := containerNameOf(containerType)
	example := map[string]string{
		engineapi.ContainerDSource: `  dvp dsource update ds1 --hook pre-sync='systemctl stop app' --hook post-sync='systemctl start app'
  dvp dsource update ds1 --hook pre-sync=
  dvp dsource update ds1 --sync-schedule '0 */4 * * *' --keep-snapshots 10
  dvp dsource update ds1 --sync-schedule ''`,
		engineapi.ContainerVDB: `  dvp vdb update vdb1 --hook configure-clone=@mask.sh --hook post-start='echo started >> /var/log/vdb1'
  dvp vdb update vdb1 --hook post-start=
  dvp vdb update vdb1 --refresh-every 24h`,
	}[containerType]
	cmd := &cobra.Command{
		Use:   "update NAME [--hook NAME=COMMAND|@FILE|NAME= ...] [--" + policyOp(containerType) + "-every DURATION|--" + policyOp(containerType) + "-schedule CRON] [--keep-snapshots N]",
		Short: "Change the " + kind + "'s hooks, policy and retention",
		Long: "Update changes settings of a " + kind + ` on the engine: the hooks given
replace that hook's commands, NAME= removes a hook, and the hooks not named
stay as they are; the policy options given replace those settings (0 or ''
turns a schedule off, --keep-snapshots 0 keeps all). The change waits for an
operation running on the ` + kind + `. The ` + kind + `'s reference is printed.

` + hookLong(containerType) + `

` + policyHelp(policyOp(containerType)),
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			if err := o.Policy.check(cmd); err != nil {
				return err
			}
			_, err := updateParams(&o, containerType)
			return err
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			p, _ := updateParams(&o, containerType)
			s, err := c.UpdateContainer(ctx, args[0], p)
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	addHookFlag(cmd, &o.Hooks, containerType, true)
	addPolicyFlags(cmd, &o.Policy, policyOp(containerType))
	return cmd
}

// addHookFlag adds --hook to a command; completion offers the hook names
// of the container type.
func addHookFlag(cmd *cobra.Command, hooks *[]string, containerType string, forUpdate bool) {
	cmd.Flags().StringArrayVar(hooks, "hook", nil, hookHelp(containerType, forUpdate))
	cmd.RegisterFlagCompletionFunc("hook", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, n := range engineapi.HookNames(containerType) {
			out = append(out, n+"=")
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	})
}

// withHooks is the status result that also shows the container's hooks:
// in the JSON report as "operations", in text on stderr after the job's
// events (stdout keeps the status alone, for scripts).
func withHooks(app *App, o *ObjectOptions, status jobResult) jobResult {
	return func(ctx context.Context, c *engineclient.Client, job *engineapi.Job, report *JobReport) (string, error) {
		line, err := status(ctx, c, job, report)
		if err != nil {
			return line, err
		}
		var ref string
		json.Unmarshal(report.Result, &ref)
		ct, err := c.GetContainer(ctx, ref)
		if err != nil {
			return line, err
		}
		report.Operations = ct.Operations
		if o.Output != "json" && app.Quiet == 0 {
			fmt.Fprint(app.IO.Err, termsafe.String(describeHooks(ct.Operations)+describePolicy(ct.Policy)))
		}
		return line, nil
	}
}

// describeHooks lists hooks, one command a line (its first line).
func describeHooks(ops engineapi.HookOperations) string {
	points := ops.Points()
	if len(points) == 0 {
		return "Hooks: none.\n"
	}
	var b strings.Builder
	b.WriteString("Hooks:\n")
	for _, k := range points {
		name := k
		if h, ok := engineapi.HookByKey(k); ok {
			name = h.Name
		}
		for i, op := range ops[k] {
			label := name
			if len(ops[k]) > 1 {
				label = fmt.Sprintf("%s (%d of %d)", name, i+1, len(ops[k]))
			}
			cmd := strings.TrimSpace(op.Command)
			if first, _, more := strings.Cut(cmd, "\n"); more {
				cmd = first + " ..."
			}
			fmt.Fprintf(&b, "  %s: %s\n", label, cmd)
		}
	}
	return b.String()
}
