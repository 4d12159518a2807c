package engineapi

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Hooks are the user's commands the engine runs on a dSource's or VDB's
// environment around its operations (docs/workflows.md, "Hooks"). A
// container keeps them in its "operations" field, by hook point, as a
// Delphix engine keeps a source's operations: each point has a list of
// commands, run in order.

// TypeHookOperation is the type of a hook's command.
const TypeHookOperation = "RunCommandOnSourceOperation"

// HookOperation is one command of a hook point.
type HookOperation struct {
	Type    string `json:"type"` // RunCommandOnSourceOperation
	Name    string `json:"name,omitempty"`
	Command string `json:"command"`
}

// HookOperations are a container's hooks: the commands of each hook point
// (Hook.Key), in order. In an update, a point with an empty list loses its
// hook and a point left out keeps it.
type HookOperations map[string][]HookOperation

// UnmarshalJSON decodes the hook points, ignoring a "type" key (a Delphix
// client sends "type": "VirtualSourceOperations" or
// "LinkedSourceOperations").
func (h *HookOperations) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*h = nil
		return nil
	}
	out := HookOperations{}
	for k, v := range raw {
		if k == "type" {
			continue
		}
		var ops []HookOperation
		if err := json.Unmarshal(v, &ops); err != nil {
			return fmt.Errorf("operations.%s is not a list of {\"type\": %q, \"command\": \"...\"} objects (%v)", k, TypeHookOperation, err)
		}
		out[k] = ops
	}
	*h = out
	return nil
}

// Points returns the hook points that have commands, in Hooks' order.
func (h HookOperations) Points() []string {
	var out []string
	for _, hk := range Hooks {
		if len(h[hk.Key]) > 0 {
			out = append(out, hk.Key)
		}
	}
	var other []string
	for k, ops := range h {
		if _, ok := HookByKey(k); !ok && len(ops) > 0 {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	return append(out, other...)
}

// Hook is a hook point.
type Hook struct {
	Name string // on the command line: pre-refresh
	Key  string // in the API: preRefresh
	Only string // the container type it belongs to (DSOURCE or VDB)
}

// Hooks are the hook points, in the order docs/workflows.md lists them.
var Hooks = []Hook{
	{"pre-sync", "preSync", ContainerDSource},
	{"post-sync", "postSync", ContainerDSource},
	{"configure-clone", "configureClone", ContainerVDB},
	{"pre-refresh", "preRefresh", ContainerVDB},
	{"post-refresh", "postRefresh", ContainerVDB},
	{"pre-rollback", "preRollback", ContainerVDB},
	{"post-rollback", "postRollback", ContainerVDB},
	{"pre-snapshot", "preSnapshot", ContainerVDB},
	{"post-snapshot", "postSnapshot", ContainerVDB},
	{"pre-start", "preStart", ContainerVDB},
	{"post-start", "postStart", ContainerVDB},
	{"pre-stop", "preStop", ContainerVDB},
	{"post-stop", "postStop", ContainerVDB},
}

// HookByName returns the hook point with the command-line name.
func HookByName(name string) (Hook, bool) {
	for _, h := range Hooks {
		if h.Name == name {
			return h, true
		}
	}
	return Hook{}, false
}

// HookByKey returns the hook point with the API key.
func HookByKey(key string) (Hook, bool) {
	for _, h := range Hooks {
		if h.Key == key {
			return h, true
		}
	}
	return Hook{}, false
}

// HookNames returns the command-line names of the hook points of a
// container type ("" for all).
func HookNames(containerType string) []string {
	var out []string
	for _, h := range Hooks {
		if containerType == "" || h.Only == containerType {
			out = append(out, h.Name)
		}
	}
	return out
}
