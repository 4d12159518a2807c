package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// find resolves a reference or a unique name of a kind into v.
func (e *Engine) find(ctx context.Context, kind, what, refOrName string, v any) error {
	return e.findStored(ctx, kind, what, refOrName, v, true)
}

// findShown finds an object as the API shows it: its secrets masked.
func (e *Engine) findShown(ctx context.Context, kind, what, refOrName string) (json.RawMessage, error) {
	var doc json.RawMessage
	return doc, e.findStored(ctx, kind, what, refOrName, &doc, false)
}

// listHint says how a user lists the objects of a kind, as the action of a
// "not found" refusal.
var listHint = map[string]string{
	engineapi.KindEnvironment:  "List them with dvp environment list.",
	engineapi.KindRepository:   "The repositories of an environment are discovered: refresh it with dvp environment refresh ENVIRONMENT, then list them with dvp source-config list.",
	engineapi.KindSourceConfig: "List them with dvp source-config list.",
	engineapi.KindContainer:    "List them with dvp dsource list or dvp vdb list.",
	engineapi.KindSnapshot:     "List the snapshots of a dSource with dvp snapshot list DSOURCE.",
}

func (e *Engine) findStored(ctx context.Context, kind, what, refOrName string, v any, reveal bool) error {
	if refOrName == "" {
		return badRequest(fmt.Sprintf("No %s was given.", what), fmt.Sprintf("Name the %s by its reference or name.", what))
	}
	ok, err := e.store.FindStored(ctx, kind, refOrName, v, reveal)
	var se *secrets.SealError
	switch {
	case errors.As(err, &se):
		return newErr(Internal, "exception.engine.secrets", fmt.Sprintf("The %s %s cannot be used: %v.", what, refOrName, err),
			fmt.Sprintf("Restore %s from a backup of the engine's data directory, or delete the %s and create it again.", se.KeyPath, what))
	case err != nil:
		return badRequest(err.Error()+".", "Use the object's reference.")
	}
	if !ok {
		return notFound(what, refOrName, listHint[kind])
	}
	return nil
}

// ---- environments ----

// Environments lists a page of the environments, and how many there are.
func (e *Engine) Environments(ctx context.Context, p Page) ([]json.RawMessage, int, error) {
	return e.listPage(ctx, store.KindEnvironment, "", p)
}

// listPage is a page of the stored documents of a kind (of a parent when
// parent is not empty), as the API shows them, and how many there are.
func (e *Engine) listPage(ctx context.Context, kind, parent string, p Page) ([]json.RawMessage, int, error) {
	docs, total, err := e.store.ListObjectsPage(ctx, kind, parent, p)
	if err != nil {
		return nil, 0, internalErr(err)
	}
	items := make([]json.RawMessage, len(docs))
	for i, d := range docs {
		items[i] = d
	}
	return items, total, nil
}

// Environment returns an environment (by reference or name).
func (e *Engine) Environment(ctx context.Context, ref string) (engineapi.Environment, error) {
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", ref, &env); err != nil {
		return engineapi.Environment{}, err
	}
	return env, nil
}

// CreateEnvironment adds an environment: a job checks that the engine can
// run commands there, then runs discovery with every installed plugin.
func (e *Engine) CreateEnvironment(ctx context.Context, caller Caller, p engineapi.EnvironmentCreateParameters) (Started, error) {
	caller, release, rerr := e.reserveJob(caller, fmt.Sprintf("Add environment %q", p.Name))
	if rerr != nil {
		return Started{}, rerr
	}
	defer release()
	var problems diag.List
	if strings.TrimSpace(p.Name) == "" {
		problems = append(problems, diag.Problem{Pointer: "/name", Severity: diag.Error, Message: "the environment needs a name"})
	} else if msg := nameProblem(p.Name); msg != "" {
		problems = append(problems, diag.Problem{Pointer: "/name", Severity: diag.Error, Message: msg})
	}
	env := engineapi.Environment{Type: "UnixHostEnvironment", Name: p.Name, HostType: p.HostType, Created: store.FormatTime(e.cfg.Clock()),
		Pending: pendingEnvironmentCreate}
	var local localUser
	switch p.HostType {
	case engineapi.HostLocal:
		var err error
		if local, err = e.localUser(p.OSUser, "add"); err != nil {
			problems = append(problems, diag.Problem{Pointer: "/osUser", Severity: diag.Error, Message: err.Error()})
		}
		env.User, env.OSUser = local.name, local.osUser
		env.Host, _ = os.Hostname()
		if env.Host == "" {
			env.Host = "localhost"
		}
		env.BinaryPath = filepath.Join(e.cfg.DataDir, "toolkit")
	case engineapi.HostSSH:
		env.Host, env.Port, env.User, env.InsecureIgnoreHostKey = p.Host, p.Port, p.User, p.InsecureIgnoreHostKey
		if env.Port == 0 {
			env.Port = 22
		}
		env.SSHKeyFile = p.SSHKeyFile
		if !p.InsecureIgnoreHostKey {
			env.KnownHostsFile = p.KnownHostsFile
		}
		problems = append(problems, sshProblems(env, "add")...)
		// The scratch path is the SSH user's (checkEnvironment).
		env.BinaryPath = "/tmp/dvp-toolkit"
	default:
		problems = append(problems, diag.Problem{Pointer: "/hostType", Severity: diag.Error, Message: fmt.Sprintf("%q is not \"local\" or \"ssh\"", p.HostType)})
	}
	if len(problems) > 0 {
		return Started{}, problemsErr(fmt.Sprintf("The environment cannot be added: %d problem(s):", len(problems)), problems,
			"Fix what is listed (the dvp environment add flags are in parentheses), then add the environment again.")
	}
	ref, err := e.store.CreateObject(ctx, store.KindEnvironment, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		env.Reference = ref
		if env.HostType == engineapi.HostLocal {
			env.ScratchPath = localScratch(local.home, e.cfg.EngineID, ref)
		}
		return &env, env.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return Started{}, conflict(fmt.Sprintf("An environment named %q exists already.", p.Name), "Choose another name, or refresh the existing environment.")
	}
	if err != nil {
		return Started{}, internalErr(err)
	}
	return e.startJob(caller, "ENVIRONMENT_CREATE", fmt.Sprintf("Add environment %q", env.Name), ref, env.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			checked, err := e.checkEnvironment(ctx, j, env)
			if err != nil {
				// An environment the engine cannot reach is not added.
				e.store.DeleteObject(context.Background(), store.KindEnvironment, ref)
				return err
			}
			// Checked: added (a stop from here on leaves it, marked
			// interrupted until a discovery completes).
			env = checked
			env.Pending = ""
			if err := e.store.PutObject(ctx, store.KindEnvironment, env.Reference, env.Name, &env, e.cfg.Clock()); err != nil {
				return err
			}
			j.Progress(10)
			return e.discover(ctx, j, env)
		})
}

// RefreshEnvironment checks an environment again and runs discovery.
func (e *Engine) RefreshEnvironment(ctx context.Context, caller Caller, ref string) (Started, error) {
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", ref, &env); err != nil {
		return Started{}, err
	}
	return e.startJob(caller, "ENVIRONMENT_REFRESH", fmt.Sprintf("Refresh environment %q", env.Name), env.Reference, env.Name, env.Reference, env.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			var cur engineapi.Environment
			if ok, err := e.store.GetObject(ctx, store.KindEnvironment, env.Reference, &cur); err != nil || !ok {
				return failf("", "The environment %s was deleted.", env.Name)
			}
			checked, err := e.checkEnvironment(ctx, j, cur)
			if err != nil {
				return err
			}
			if checked.ScratchPath != cur.ScratchPath {
				cur = checked
				if err := e.store.PutObject(ctx, store.KindEnvironment, cur.Reference, cur.Name, &cur, e.cfg.Clock()); err != nil {
					return err
				}
			}
			j.Progress(10)
			return e.discover(ctx, j, cur)
		})
}

// DeleteEnvironment deletes an environment with its repositories and
// source configs; one that a dSource or VDB uses is refused.
func (e *Engine) DeleteEnvironment(ctx context.Context, ref string) error {
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", ref, &env); err != nil {
		return err
	}
	users, err := e.containersOn(ctx, env.Reference)
	if err != nil {
		return internalErr(err)
	}
	if len(users) > 0 {
		return conflict(fmt.Sprintf("The environment %q is used by %s.", env.Name, containerList(users)), deleteFirst(users))
	}
	repos, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, env.Reference)
	if err != nil {
		return internalErr(err)
	}
	for _, repo := range repos {
		scs, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
		if err != nil {
			return internalErr(err)
		}
		for _, sc := range scs {
			e.store.DeleteObject(ctx, store.KindSourceConfig, sc.Reference)
		}
		e.store.DeleteObject(ctx, store.KindRepository, repo.Reference)
	}
	if err := e.store.DeleteObject(ctx, store.KindEnvironment, env.Reference); err != nil {
		return internalErr(err)
	}
	e.removeScratch(ctx, env)
	return nil
}

// ---- repositories and source configs ----

// Repositories lists the repositories (of an environment, by reference
// or name, when environment is not empty).
func (e *Engine) Repositories(ctx context.Context, environment string, p Page) ([]json.RawMessage, int, error) {
	parent := ""
	if v := environment; v != "" {
		var env engineapi.Environment
		if err := e.find(ctx, store.KindEnvironment, "environment", v, &env); err != nil {
			return nil, 0, err
		}
		parent = env.Reference
	}
	return e.listPage(ctx, store.KindRepository, parent, p)
}

// findRepository resolves a repository by reference, or by name on an
// environment (names repeat across environments).
func (e *Engine) findRepository(ctx context.Context, envRefOrName, refOrName string) (*engineapi.Repository, error) {
	var repo engineapi.Repository
	if ok, err := e.store.GetObject(ctx, store.KindRepository, refOrName, &repo); err != nil {
		return nil, internalErr(err)
	} else if ok {
		return &repo, nil
	}
	if envRefOrName == "" {
		return nil, badRequest(fmt.Sprintf("The repository %q is not a reference, and no environment was given to find it by name.", refOrName), "Give the environment too, or the repository's reference.")
	}
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", envRefOrName, &env); err != nil {
		return nil, err
	}
	repos, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, env.Reference)
	if err != nil {
		return nil, internalErr(err)
	}
	var names []string
	for i := range repos {
		if repos[i].Name == refOrName {
			return &repos[i], nil
		}
		names = append(names, strconv.Quote(repos[i].Name))
	}
	return nil, notFound("repository", refOrName, fmt.Sprintf("The repositories of %s are: %s. Refresh the environment if one is missing.", env.Name, strings.Join(names, ", ")))
}

// SourceConfigs lists the source configs (of a repository, found by
// reference or by name on environment, when repository is not empty).
func (e *Engine) SourceConfigs(ctx context.Context, environment, repository string, p Page) ([]json.RawMessage, int, error) {
	parent := ""
	if v := repository; v != "" {
		repo, err := e.findRepository(ctx, environment, v)
		if err != nil {
			return nil, 0, err
		}
		parent = repo.Reference
	}
	return e.listPage(ctx, store.KindSourceConfig, parent, p)
}

func (e *Engine) toolkitOf(ctx context.Context, ref string) (*store.Toolkit, *artifact.Artifact, error) {
	t, err := e.store.ToolkitByRef(ctx, ref)
	if err != nil {
		return nil, nil, internalErr(err)
	}
	if t == nil {
		return nil, nil, notFound("plugin", ref, "Upload the plugin again and refresh the environment.")
	}
	a, err := t.Artifact()
	if err != nil {
		return nil, nil, internalErr(err)
	}
	return t, a, nil
}

// CreateSourceConfig adds a source config to a repository by hand and
// returns its reference.
func (e *Engine) CreateSourceConfig(ctx context.Context, p engineapi.SourceConfigCreateParameters) (string, error) {
	repo, aerr := e.findRepository(ctx, p.Environment, p.Repository)
	if aerr != nil {
		return "", aerr
	}
	t, a, aerr := e.toolkitOf(ctx, repo.Toolkit)
	if aerr != nil {
		return "", aerr
	}
	if !a.DiscoveryDefinition.ManualSourceConfigDiscovery {
		env := engineapi.Environment{Name: repo.Environment}
		e.store.GetObject(ctx, store.KindEnvironment, repo.Environment, &env)
		return "", conflict(fmt.Sprintf("The plugin %q does not take source configs added by hand (manualDiscovery: false in its plugin_config.yml): its discovery finds them.", a.Name),
			fmt.Sprintf("Run discovery again so that the plugin finds the source config (dvp environment refresh %s), then link it; or set manualDiscovery: true in the plugin's plugin_config.yml and upload it again.", env.Name))
	}
	if aerr := e.validateParams(t, a, "sourceConfigDefinition", "source config parameters", p.Parameters); aerr != nil {
		return "", aerr
	}
	dd := a.DiscoveryDefinition
	id := identityKey(p.Parameters, dd.SourceConfigIdentityFields)
	have, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
	if err != nil {
		return "", internalErr(err)
	}
	for _, sc := range have {
		if sc.Identity == id {
			return "", conflict(fmt.Sprintf("The source config %q (%s) of repository %q has the same identity (%s: %s).", sc.Name, sc.Reference, repo.Name, strings.Join(dd.SourceConfigIdentityFields, ", "), id),
				"Use the existing source config, or change the identity fields.")
		}
	}
	if err := checkName("source config", p.Name); err != nil {
		return "", err
	}
	name := p.Name // else its name field's value (a path, it may be long), else its identity
	if name == "" {
		name = nameOf(p.Parameters, dd.SourceConfigNameField)
	}
	if name == "" {
		name = id
	}
	compact, _ := compactJSON(p.Parameters)
	ref, err := e.store.CreateObject(ctx, store.KindSourceConfig, repo.Reference, false, e.cfg.Clock(), func(ref string) (any, string) {
		return &engineapi.SourceConfig{Type: "AppDataSourceConfig", Reference: ref, Name: name, Repository: repo.Reference, Environment: repo.Environment,
			Toolkit: repo.Toolkit, Parameters: compact, Identity: id}, name
	})
	if err != nil {
		return "", internalErr(err)
	}
	return ref, nil
}

func compactJSON(raw json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw, err
	}
	b, err := marshalNoEscape(v)
	return b, err
}

// DeleteSourceConfig deletes a source config no dSource or VDB uses.
func (e *Engine) DeleteSourceConfig(ctx context.Context, ref string) error {
	var sc engineapi.SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", ref, &sc); err != nil {
		return err
	}
	if err := e.sourceConfigUsers(ctx, &sc); err != nil {
		return err
	}
	if err := e.store.DeleteObject(ctx, store.KindSourceConfig, sc.Reference); err != nil {
		return internalErr(err)
	}
	return nil
}

// ---- snapshots ----

// Snapshots lists the snapshots (of a dSource or VDB, by reference or
// name, when container is not empty).
func (e *Engine) Snapshots(ctx context.Context, container string, p Page) ([]json.RawMessage, int, error) {
	parent := ""
	if v := container; v != "" {
		var c engineapi.Container
		if err := e.find(ctx, store.KindContainer, "dSource or VDB", v, &c); err != nil {
			return nil, 0, err
		}
		parent = c.Reference
	}
	items, total, err := e.listPage(ctx, store.KindSnapshot, parent, p)
	if err != nil {
		return nil, 0, err
	}
	complete := completeSnapshots(items)
	// The snapshots being taken are the newest: leaving them out of a
	// page leaves the pages before it as they were.
	return complete, total - (len(items) - len(complete)), nil
}

// completeSnapshots leaves out the snapshots being taken: a snapshot is
// stored when its job starts taking it (to reserve its reference) and
// completed, with its directory, once its data and the plugin's metadata
// are there. Until then no list shows it.
func completeSnapshots(items []json.RawMessage) []json.RawMessage {
	out := items[:0:0]
	for _, it := range items {
		var s struct {
			Dir string `json:"storage"`
		}
		if json.Unmarshal(it, &s) == nil && s.Dir != "" {
			out = append(out, it)
		}
	}
	return out
}

// objectNames name the kinds of objects in messages.
var objectNames = map[string]string{
	store.KindEnvironment:  "environment",
	store.KindRepository:   "repository",
	store.KindSourceConfig: "source config",
	store.KindContainer:    "dSource or VDB",
	store.KindSnapshot:     "snapshot",
}

// Show returns an object of the kind (by reference or unique name) as the
// API shows it: its secrets masked.
func (e *Engine) Show(ctx context.Context, kind, ref string) (json.RawMessage, error) {
	doc, err := e.findShown(ctx, kind, objectNames[kind], ref)
	if err != nil || kind != store.KindContainer {
		return doc, err
	}
	docs, perr := e.withPolicies(ctx, []json.RawMessage{doc})
	if perr != nil {
		return nil, internalErr(perr)
	}
	return docs[0], nil
}
