package core

import (
	"context"
	"fmt"

	"github.com/dvpkit/dvp/internal/engine/store"
)

// Toolkits lists the installed plugins as the API shows them.
func (e *Engine) Toolkits(ctx context.Context) ([]any, error) {
	rows, err := e.store.Toolkits(ctx)
	if err != nil {
		return nil, internalErr(err)
	}
	items := make([]any, 0, len(rows))
	for _, t := range rows {
		obj, err := toolkitObject(t)
		if err != nil {
			return nil, internalErr(err)
		}
		items = append(items, obj)
	}
	return items, nil
}

// Toolkit returns an installed plugin as the API shows it.
func (e *Engine) Toolkit(ctx context.Context, ref string) (any, error) {
	t, err := e.store.ToolkitByRef(ctx, ref)
	if err != nil {
		return nil, internalErr(err)
	}
	if t == nil {
		return nil, toolkitNotFound(ref)
	}
	obj, err := toolkitObject(t)
	if err != nil {
		return nil, internalErr(err)
	}
	return obj, nil
}

func toolkitNotFound(ref string) error {
	return newErr(NotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The plugin %q does not exist on this engine.", ref),
		"Upload the plugin with dvp upload, or give the reference of an installed one.")
}

// DeleteToolkit deletes an installed plugin (a completed action).
func (e *Engine) DeleteToolkit(ctx context.Context, caller Caller, ref string) (Started, error) {
	t, err := e.store.ToolkitByRef(ctx, ref)
	if err != nil {
		return Started{}, internalErr(err)
	}
	if t == nil {
		return Started{}, toolkitNotFound(ref)
	}
	if err := e.store.DeleteToolkit(ctx, t); err != nil {
		return Started{}, internalErr(err)
	}
	now := store.FormatTime(e.cfg.Clock())
	a := &store.Action{ActionType: "TOOLKIT_DELETE", Title: fmt.Sprintf("Delete plugin %q", t.Name),
		Details: fmt.Sprintf("Deleted plugin %q (%s, build %s).", t.Name, t.PluginID, t.BuildNumber),
		State:   "COMPLETED", UserRef: caller.UserRef, StartTime: now}
	a.EndTime.String, a.EndTime.Valid = now, true
	if err := e.store.InsertAction(ctx, a); err != nil {
		return Started{}, internalErr(err)
	}
	e.pluginLog(t.PluginID, "%s deleted by %s (build %s); %s", t.Ref(), caller.User, t.BuildNumber, a.Ref())
	return Started{Action: a.Ref()}, nil
}
