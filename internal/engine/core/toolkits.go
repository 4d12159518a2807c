package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// Page selects a part of a list (the API's pageSize and pageOffset); All
// is the whole list.
type Page = store.Page

// All is the whole list.
var All = store.All

// rendered caches the API form of each installed plugin, keyed by what
// changes with it (store.ToolkitHead): a list concatenates ready bytes
// instead of decoding every stored artifact and encoding it again.
type rendered struct {
	mu sync.RWMutex
	m  map[int64]renderedToolkit
}

type renderedToolkit struct {
	head store.ToolkitHead
	json json.RawMessage
}

func headOf(t *store.Toolkit) store.ToolkitHead {
	return store.ToolkitHead{ID: t.ID, ArtifactSHA256: t.ArtifactSHA256, SourceSHA256: t.SourceSHA256,
		SourceSize: t.SourceSize, Installed: t.Installed, Updated: t.Updated}
}

func (c *rendered) get(h store.ToolkitHead) (json.RawMessage, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.m[h.ID]
	if !ok || r.head != h {
		return nil, false
	}
	return r.json, true
}

// render returns the API form of t, from the cache when t has not changed.
func (c *rendered) render(t *store.Toolkit) (json.RawMessage, error) {
	h := headOf(t)
	if b, ok := c.get(h); ok {
		return b, nil
	}
	obj, err := toolkitObject(t)
	if err != nil {
		return nil, err
	}
	b, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]renderedToolkit{}
	}
	c.m[h.ID] = renderedToolkit{head: h, json: b}
	c.mu.Unlock()
	return b, nil
}

func (c *rendered) forget(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// prune drops the entries of plugins no longer installed once the cache
// holds more than twice as many as there are.
func (c *rendered) prune(installed int, live func(id int64) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) <= 2*installed+16 {
		return
	}
	for id := range c.m {
		if !live(id) {
			delete(c.m, id)
		}
	}
}

// Toolkits lists the installed plugins as the API shows them (compact
// JSON), oldest first: the page p of them, and how many there are.
func (e *Engine) Toolkits(ctx context.Context, p Page) ([]json.RawMessage, int, error) {
	heads, total, err := e.store.ToolkitHeads(ctx, p)
	if err != nil {
		return nil, 0, internalErr(err)
	}
	items := make([]json.RawMessage, 0, len(heads))
	for _, h := range heads {
		if b, ok := e.rendered.get(h); ok {
			items = append(items, b)
			continue
		}
		t, err := e.store.ToolkitByID(ctx, h.ID)
		if err != nil {
			return nil, 0, internalErr(err)
		}
		if t == nil { // deleted since
			continue
		}
		b, err := e.rendered.render(t)
		if err != nil {
			return nil, 0, internalErr(err)
		}
		items = append(items, b)
	}
	if p == All {
		ids := make(map[int64]bool, len(heads))
		for _, h := range heads {
			ids[h.ID] = true
		}
		e.rendered.prune(total, func(id int64) bool { return ids[id] })
	}
	return items, total, nil
}

// Toolkit returns an installed plugin as the API shows it (compact JSON).
func (e *Engine) Toolkit(ctx context.Context, ref string) (json.RawMessage, error) {
	t, err := e.store.ToolkitByRef(ctx, ref)
	if err != nil {
		return nil, internalErr(err)
	}
	if t == nil {
		return nil, toolkitNotFound(ref)
	}
	b, err := e.rendered.render(t)
	if err != nil {
		return nil, internalErr(err)
	}
	return b, nil
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
	// A dSource or VDB of the plugin would be left with no plugin to run
	// its operations: they go first, as an environment's do.
	users, err := e.containersUsing(ctx, func(c *engineapi.Container) bool { return c.Toolkit == t.Ref() })
	if err != nil {
		return Started{}, internalErr(err)
	}
	if len(users) > 0 {
		return Started{}, conflict(fmt.Sprintf("The plugin %q is used by %s.", t.Name, containerList(users)), deleteFirst(users))
	}
	// What the plugin discovered (its repositories, the source configs
	// discovery found) means nothing without it and goes with it, in the
	// same transaction; a source config a user added is the user's to
	// delete first.
	discovered, added, err := e.toolkitObjects(ctx, t.Ref())
	if err != nil {
		return Started{}, internalErr(err)
	}
	if len(added) > 0 {
		names, cmds := make([]string, len(added)), make([]string, len(added))
		for i, sc := range added {
			names[i] = "source config " + sc.Name
			cmds[i] = "dvp source-config delete " + sc.Name
		}
		return Started{}, conflict(fmt.Sprintf("The plugin %q is used by %s.", t.Name, strings.Join(names, ", ")),
			"Delete them first ("+strings.Join(cmds, "; ")+").")
	}
	if err := e.store.DeleteToolkit(ctx, t, discovered...); err != nil {
		return Started{}, internalErr(err)
	}
	e.rendered.forget(t.ID)
	e.retireBinaries(ctx, t.SourceSHA256)
	now := store.FormatTime(e.cfg.Clock())
	a := &store.Action{ActionType: "TOOLKIT_DELETE", Title: fmt.Sprintf("Delete plugin %q", t.Name),
		Details: fmt.Sprintf("Deleted plugin %q (%s, build %s).", t.Name, t.PluginID, t.BuildNumber),
		State:   "COMPLETED", UserRef: caller.UserRef, StartTime: now}
	a.EndTime = store.Text(now)
	if err := e.store.InsertAction(ctx, a); err != nil {
		return Started{}, internalErr(err)
	}
	e.pluginLog(t.PluginID, "%s deleted by %s (build %s); %s", t.Ref(), caller.User, t.BuildNumber, a.Ref())
	return Started{Action: a.Ref()}, nil
}

// toolkitObjects returns the objects of the plugin ref on the environments:
// the repositories and discovered source configs (keys), and the source
// configs users added.
func (e *Engine) toolkitObjects(ctx context.Context, ref string) (discovered []store.ObjectKey, added []engineapi.SourceConfig, err error) {
	repos, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, "")
	if err != nil {
		return nil, nil, err
	}
	scs, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, "")
	if err != nil {
		return nil, nil, err
	}
	for _, sc := range scs {
		switch {
		case sc.Toolkit != ref:
		case sc.Discovered:
			discovered = append(discovered, store.ObjectKey{Kind: store.KindSourceConfig, Ref: sc.Reference})
		default:
			added = append(added, sc)
		}
	}
	for _, r := range repos {
		if r.Toolkit == ref {
			discovered = append(discovered, store.ObjectKey{Kind: store.KindRepository, Ref: r.Reference})
		}
	}
	return discovered, added, nil
}
