package core

import (
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
