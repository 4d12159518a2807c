package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/termsafe"
)

// Every delete command (environment, source-config, dsource, vdb, toolkit)
// reports the same way: its result on stdout is the reference of what it
// deleted (-o json: "result", and "deleted" with its type, reference and
// name), and "Deleted ..." is a message on stderr (unless -q). The engine
// answers most deletes with an empty result, as Delphix engines do, so the
// object is looked up before it is deleted.

// deleteOutputHelp is the paragraph of a delete command's help on what it
// prints.
const deleteOutputHelp = `It prints the reference of what it deleted on stdout (-o json: the report,
with it as "result" and "deleted": its type, reference and name) and says
"Deleted ..." on stderr.`

// DeletedObject is what a delete command removed.
type DeletedObject struct {
	Type      string `json:"type"` // environment, source config, dSource, VDB or plugin
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// runDelete deletes obj with del, follows the job the engine started (if
// any), prints obj's reference as the result and says msg on stderr.
func runDelete(ctx context.Context, app *App, o *ObjectOptions, c *engineclient.Client, obj DeletedObject, msg string, del func() (*engineclient.Started, error)) error {
	s, err := del()
	if err != nil {
		return mapEngineError(err)
	}
	deleted := func(_ context.Context, _ *engineclient.Client, _ *engineapi.Job, report *JobReport) (string, error) {
		report.Result, _ = json.Marshal(obj.Reference)
		report.Deleted = &obj
		return obj.Reference, nil
	}
	if err := printJobResult(ctx, app, o, c, s, deleted); err != nil {
		return err
	}
	if o.Output != "json" {
		app.say("%s", msg)
	}
	return nil
}

// say prints a message on stderr: what dvp did (a confirmation), not a
// result. -q drops it.
func (a *App) say(format string, args ...any) {
	if a.Quiet == 0 {
		fmt.Fprintln(a.IO.Err, termsafe.String(fmt.Sprintf(format, args...)))
	}
}

// lookUpOn finds key (lookUp) among the objects list returns; a failed
// list is the error mapEngineError makes of it.
func lookUpOn[T any](ctx context.Context, list func(context.Context) ([]T, error), key string, refName func(T) (string, string)) (ref, name string, err error) {
	items, err := list(ctx)
	if err != nil {
		return "", "", mapEngineError(err)
	}
	ref, name = lookUp(items, key, refName)
	return ref, name, nil
}

// lookUp finds the one object of items named key (by reference or name)
// and returns its reference and name. When none or several match it
// returns key twice: the engine's answer to the delete then says what is
// wrong.
func lookUp[T any](items []T, key string, refName func(T) (string, string)) (ref, name string) {
	n := 0
	for _, it := range items {
		if r, nm := refName(it); r == key || nm == key {
			ref, name, n = r, nm, n+1
		}
	}
	if n != 1 {
		return key, key
	}
	return ref, name
}
