package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// UpdateContainer changes the settings of a dSource or VDB (by reference
// or name): POST delphix/database/{ref} with the fields that change
// (engineapi.ContainerUpdateParameters). The request is checked at once;
// the change is a job under the container's lock, so that it waits for a
// running operation (whose job saves the container at its end) instead of
// being overwritten by it.
//
// A new setting adds its field to ContainerUpdateParameters, its check to
// checkUpdate and its change to applyUpdate.
func (e *Engine) UpdateContainer(ctx context.Context, caller Caller, ref string, p engineapi.ContainerUpdateParameters) (Started, error) {
	if p.Type != "" && p.Type != engineapi.TypeContainer {
		return Started{}, badRequest(fmt.Sprintf("An update of a dSource or VDB has the type %q, not %q.", engineapi.TypeContainer, p.Type),
			"Send the fields to change in an "+engineapi.TypeContainer+" object.")
	}
	var c engineapi.Container
	if err := e.find(ctx, store.KindContainer, "dSource or VDB", ref, &c); err != nil {
		return Started{}, err
	}
	if err := checkUpdate(&c, &p); err != nil {
		return Started{}, err
	}
	if !p.Policy.IsZero() { // checked now, applied by the job (policies.go)
		if _, err := e.checkPolicyChange(ctx, &c, p.Policy); err != nil {
			return Started{}, err
		}
	}
	kind := containerNames[c.ContainerType]
	return e.startJob(caller, "DB_UPDATE", fmt.Sprintf("Update %s %q", kind, c.Name), c.Reference, c.Name, c.Reference, c.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			var cur engineapi.Container
			ok, err := e.store.GetObject(ctx, store.KindContainer, c.Reference, &cur)
			if err != nil {
				return err
			}
			if !ok {
				return failf("", "%s was deleted.", c.Name)
			}
			if len(p.Operations) > 0 {
				for _, change := range applyUpdate(&cur, &p) {
					j.Info("event.container.updated", fmt.Sprintf("%s %s: %s.", kind, cur.Name, change))
				}
				if err := e.store.PutObject(ctx, store.KindContainer, cur.Reference, cur.Name, &cur, e.cfg.Clock()); err != nil {
					return err
				}
			}
			return e.updatePolicy(ctx, j, caller, &cur, p.Policy)
		})
}

// checkUpdate refuses an update that changes nothing or that a container
// cannot take; it normalizes p.
func checkUpdate(c *engineapi.Container, p *engineapi.ContainerUpdateParameters) error {
	if len(p.Operations) == 0 && p.Policy.IsZero() {
		return badRequest(fmt.Sprintf("The update of %s changes nothing.", c.Name), "Give the settings to change (dvp dsource update --help, dvp vdb update --help).")
	}
	if len(p.Operations) == 0 {
		return nil
	}
	ops, err := checkHooks(c.ContainerType, c.Name, p.Operations, true)
	if err != nil {
		return err
	}
	p.Operations = ops
	return nil
}

// applyUpdate applies a checked update to c; it returns what changed, one
// sentence each.
func applyUpdate(c *engineapi.Container, p *engineapi.ContainerUpdateParameters) []string {
	var changes []string
	for _, k := range sortedKeys(p.Operations) {
		ops := p.Operations[k]
		h, _ := engineapi.HookByKey(k)
		if len(ops) == 0 {
			if len(c.Operations[k]) > 0 {
				changes = append(changes, fmt.Sprintf("removed the %s hook", h.Name))
			}
			delete(c.Operations, k)
			continue
		}
		if c.Operations == nil {
			c.Operations = engineapi.HookOperations{}
		}
		c.Operations[k] = ops
		changes = append(changes, fmt.Sprintf("the %s hook runs %s", h.Name, describeHook(ops)))
	}
	if len(c.Operations) == 0 {
		c.Operations = nil
	}
	if len(changes) == 0 {
		changes = append(changes, "nothing changed")
	}
	return changes
}

func hookIndex(key string) int {
	for i, h := range engineapi.Hooks {
		if h.Key == key {
			return i
		}
	}
	return len(engineapi.Hooks)
}

// describeHook quotes a hook's commands for an event (the first line of
// each, shortened).
func describeHook(ops []engineapi.HookOperation) string {
	var q []string
	for _, op := range ops {
		cmd := op.Command
		if i := strings.IndexByte(cmd, '\n'); i >= 0 {
			cmd = cmd[:i] + " ..."
		}
		if len(cmd) > 80 {
			cmd = cmd[:80] + "..."
		}
		q = append(q, fmt.Sprintf("%q", cmd))
	}
	return strings.Join(q, ", then ")
}
