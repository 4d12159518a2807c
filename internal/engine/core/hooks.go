package core

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

// Hooks: the user's commands a dSource or VDB runs around its operations
// (docs/workflows.md, "Hooks"). They are stored with the container
// (engineapi.Container.Operations); this file checks them and runs them.

// Bounds of a container's hooks.
const (
	maxHookCommands     = 16       // commands of one hook point
	maxHookCommandBytes = 64 << 10 // one command
)

// checkHooks checks the hooks given for a container of the type (named
// name in messages) and returns them with their type set. With forUpdate,
// an empty list is kept (it removes that hook); otherwise it is dropped.
func checkHooks(containerType, name string, ops engineapi.HookOperations, forUpdate bool) (engineapi.HookOperations, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	kind := containerNames[containerType]
	var keys []string
	for _, h := range engineapi.Hooks {
		if h.Only == containerType {
			keys = append(keys, h.Key)
		}
	}
	out := engineapi.HookOperations{}
	for _, k := range sortedKeys(ops) {
		h, ok := engineapi.HookByKey(k)
		if !ok {
			msg := fmt.Sprintf("%q is not a hook point", k)
			if s := jsonschemamsg.Suggest(k, keys, 3); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			return nil, badRequest(msg+".", fmt.Sprintf("The hook points of a %s are %s.", kind, strings.Join(keys, ", ")))
		}
		if h.Only != containerType {
			return nil, badRequest(fmt.Sprintf("%s is a %s: %q is a hook of %ss.", name, kind, k, containerNames[h.Only]),
				fmt.Sprintf("The hook points of a %s are %s.", kind, strings.Join(keys, ", ")))
		}
		list := ops[k]
		if len(list) > maxHookCommands {
			return nil, badRequest(fmt.Sprintf("The hook %s has %d commands; it may have %d at most.", k, len(list), maxHookCommands), "Put the commands in one script.")
		}
		if len(list) == 0 {
			if forUpdate {
				out[k] = []engineapi.HookOperation{}
			}
			continue
		}
		checked := make([]engineapi.HookOperation, 0, len(list))
		for i, op := range list {
			where := fmt.Sprintf("/operations/%s/%d", k, i)
			if op.Type != "" && op.Type != engineapi.TypeHookOperation {
				return nil, badRequest(fmt.Sprintf("%s: the engine runs hooks of the type %q, not %q.", where, engineapi.TypeHookOperation, op.Type), "Give the hook as a shell command.")
			}
			if strings.TrimSpace(op.Command) == "" {
				return nil, badRequest(fmt.Sprintf("%s: the hook's command is empty.", where), "Give a command, or leave the hook out.")
			}
			if len(op.Command) > maxHookCommandBytes {
				return nil, badRequest(fmt.Sprintf("%s: the hook's command is %d bytes long; at most %d are allowed.", where, len(op.Command), maxHookCommandBytes), "Put the commands in a script on the environment and run that.")
			}
			if strings.ContainsRune(op.Command, 0) {
				return nil, badRequest(fmt.Sprintf("%s: the hook's command holds a NUL byte.", where), "Give a shell command as text.")
			}
			op.Type = engineapi.TypeHookOperation
			checked = append(checked, op)
		}
		out[k] = checked
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// sortedKeys returns the hook points of ops in engineapi.Hooks' order,
// unknown ones last by name.
func sortedKeys(ops engineapi.HookOperations) []string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sort.SliceStable(keys, func(a, b int) bool { return hookIndex(keys[a]) < hookIndex(keys[b]) })
	return keys
}

// hookFailure is what a failed hook leaves: what became of the operation.
type hookFailure struct {
	what   string // the operation, as the failure names it: "refresh"
	after  bool   // the hook ran after the operation (which completed)
	action string // the failure's action, when the usual one does not apply
}

// hook runs the commands of the container's hook point key, in order, on
// the container's environment (docs/workflows.md, "Hooks"); it stops at
// the first that fails and returns a *jobError naming the hook, quoting
// its output and saying what state the operation left (f). A hook point
// without commands runs nothing.
func (w *wf) hook(ctx context.Context, key string, f hookFailure) error {
	ops := w.c.Operations[key]
	if len(ops) == 0 {
		return nil
	}
	h, _ := engineapi.HookByKey(key)
	env, err := w.env(ctx, w.c.Environment)
	if err != nil {
		return err
	}
	for i, op := range ops {
		which := fmt.Sprintf("the %s hook", h.Name)
		if len(ops) > 1 {
			which = fmt.Sprintf("command %d of %d of the %s hook", i+1, len(ops), h.Name)
		}
		w.j.Info("event.hook.started", fmt.Sprintf("Running %s on %s: %s", which, env.Name, describeHook([]engineapi.HookOperation{op})))
		res, err := w.run.RunHook(ctx, env.Reference, h.Name, op.Command)
		out := strings.TrimRight(res.Stdout, "\n")
		if e := strings.TrimRight(res.Stderr, "\n"); e != "" {
			if out != "" {
				out += "\n"
			}
			out += e
		}
		if err == nil && res.ExitCode == 0 {
			continue
		}
		why := fmt.Sprintf("exited with %d", res.ExitCode)
		if err != nil {
			why = "could not run: " + err.Error()
		}
		msg := fmt.Sprintf("%s of %s %s failed on %s: it %s.", upperFirst(which), containerNames[w.c.ContainerType], w.c.Name, env.Name, why)
		if out = strings.TrimSpace(out); out != "" {
			if len(out) > maxEventOutput {
				out = "..." + out[len(out)-maxEventOutput:]
			}
			msg += "\nOutput:\n" + out
		}
		state := fmt.Sprintf("The %s did not run: %s is as it was.", f.what, w.c.Name)
		if f.after {
			state = fmt.Sprintf("The %s itself completed.", f.what)
		}
		cmd := "vdb"
		if w.c.ContainerType == engineapi.ContainerDSource {
			cmd = "dsource"
		}
		if f.action != "" {
			return &jobError{Code: "exception.hook.failed", Message: msg, Action: f.action}
		}
		return &jobError{Code: "exception.hook.failed", Message: msg,
			Action: fmt.Sprintf("%s Fix the hook (dvp %s update %s --hook %s=COMMAND, or --hook %s= to remove it), then run the %s again.", state, cmd, w.c.Name, h.Name, h.Name, f.what)}
	}
	return nil
}

// around runs step between the container's hook points pre and post: a
// failing pre hook stops the operation before any plugin operation runs;
// post runs after step succeeded or, with always (post-sync,
// post-snapshot), also after pre or step failed. The first failure is the
// job's; a later one is a warning event.
func (w *wf) around(ctx context.Context, what, pre, post string, always bool, step func() error) error {
	err := w.hook(ctx, pre, hookFailure{what: what})
	if err == nil {
		err = step()
	}
	if err != nil && !always {
		return err
	}
	perr := w.hook(ctx, post, hookFailure{what: what, after: err == nil})
	if err == nil {
		return perr
	}
	if perr != nil {
		d, _, _ := describeFailure(perr)
		w.j.Event("event.hook.failed", d, nil, "WARNING", "RUNNING")
	}
	return err
}

// hooked is a container operation (containerOps) run between the hook
// points pre and post (around).
func hooked(what, pre, post string, always bool, step func(w *wf, ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error) func(w *wf, ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	return func(w *wf, ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
		return w.around(ctx, what, pre, post, always, func() error { return step(w, ctx, p, snap) })
	}
}

// extendedHooks says whether a VDB's start and stop hooks also run on
// enable and disable: the plugin's extendedStartStopHooks.
func (w *wf) extendedHooks() bool {
	return w.c.ContainerType == engineapi.ContainerVDB && w.art != nil && w.art.ExtendedStartStopHooks
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
