package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The data-object resources (docs/engine.md, "Environments, dSources and
// VDBs").
var objectRoutes = []route{
	{Method: http.MethodGet, Pattern: "delphix/environment", handle: (*Engine).handleEnvironments},
	{Method: http.MethodPost, Pattern: "delphix/environment", handle: (*Engine).handleEnvironmentCreate},
	{Method: http.MethodGet, Pattern: "delphix/environment/{ref}", handle: (*Engine).handleEnvironment},
	{Method: http.MethodPost, Pattern: "delphix/environment/{ref}/refresh", handle: (*Engine).handleEnvironmentRefresh},
	{Method: http.MethodPost, Pattern: "delphix/environment/{ref}/delete", handle: (*Engine).handleEnvironmentDelete},
	{Method: http.MethodGet, Pattern: "delphix/repository", handle: (*Engine).handleRepositories},
	{Method: http.MethodGet, Pattern: "delphix/repository/{ref}", handle: (*Engine).handleRepository},
	{Method: http.MethodGet, Pattern: "delphix/sourceconfig", handle: (*Engine).handleSourceConfigs},
	{Method: http.MethodPost, Pattern: "delphix/sourceconfig", handle: (*Engine).handleSourceConfigCreate},
	{Method: http.MethodGet, Pattern: "delphix/sourceconfig/{ref}", handle: (*Engine).handleSourceConfig},
	{Method: http.MethodPost, Pattern: "delphix/sourceconfig/{ref}/delete", handle: (*Engine).handleSourceConfigDelete},
	{Method: http.MethodGet, Pattern: "delphix/database", handle: (*Engine).handleContainers},
	{Method: http.MethodGet, Pattern: "delphix/database/{ref}", handle: (*Engine).handleContainer},
	{Method: http.MethodPost, Pattern: "delphix/database/link", handle: (*Engine).handleLink},
	{Method: http.MethodPost, Pattern: "delphix/database/provision", handle: (*Engine).handleProvision},
	{Method: http.MethodGet, Pattern: "delphix/snapshot", handle: (*Engine).handleSnapshots},
	{Method: http.MethodGet, Pattern: "delphix/snapshot/{ref}", handle: (*Engine).handleSnapshot},
	{Method: http.MethodGet, Pattern: "delphix/job/{ref}", handle: (*Engine).handleJob},
}

// containerOps are the POST delphix/database/{ref}/<op> operations, and
// which containers they apply to.
var containerOps = map[string]string{
	"sync": "DSOURCE", "refresh": "VDB", "rollback": "VDB", "snapshot": "VDB", "start": "VDB", "stop": "VDB",
	"enable": "", "disable": "", "status": "", "delete": "",
}

func init() {
	apiRoutes = append(apiRoutes, objectRoutes...)
	for _, op := range []string{"sync", "refresh", "rollback", "snapshot", "start", "stop", "enable", "disable", "status", "delete"} {
		op := op
		apiRoutes = append(apiRoutes, route{Method: http.MethodPost, Pattern: "delphix/database/{ref}/" + op,
			handle: func(e *Engine, w http.ResponseWriter, r *http.Request, q *request) *APIError {
				return e.handleContainerOp(w, r, q, op)
			}})
	}
}

func targetObjectType(j *store.Job) string {
	t := j.Target.String
	switch {
	case strings.HasPrefix(t, "APPDATA_TOOLKIT-"):
		return "Toolkit"
	case strings.HasPrefix(t, engineapi.RefPrefixes[store.KindEnvironment]+"-"):
		return "UnixHostEnvironment"
	case strings.HasPrefix(t, engineapi.RefPrefixes[store.KindContainer]+"-"):
		return "AppDataContainer"
	}
	return "Toolkit"
}

func notFound(what, ref, how string) *APIError {
	return apiErr(http.StatusNotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The %s %q does not exist on this engine.", what, ref), how)
}

func badRequest(details, action string) *APIError {
	return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", details, action)
}

func conflict(details, action string) *APIError {
	return apiErr(http.StatusConflict, "exception.object.conflict", details, action)
}

func rawList(items []json.RawMessage) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// find resolves a reference or a unique name of a kind into v.
func (e *Engine) find(ctx context.Context, kind, what, refOrName string, v any) *APIError {
	return e.findStored(ctx, kind, what, refOrName, v, true)
}

// findShown finds an object as the API shows it: its secrets masked.
func (e *Engine) findShown(ctx context.Context, kind, what, refOrName string) (json.RawMessage, *APIError) {
	var doc json.RawMessage
	return doc, e.findStored(ctx, kind, what, refOrName, &doc, false)
}

func (e *Engine) findStored(ctx context.Context, kind, what, refOrName string, v any, reveal bool) *APIError {
	if refOrName == "" {
		return badRequest(fmt.Sprintf("No %s was given.", what), fmt.Sprintf("Name the %s by its reference or name.", what))
	}
	ok, err := e.store.FindStored(ctx, kind, refOrName, v, reveal)
	var se *secrets.SealError
	switch {
	case errors.As(err, &se):
		return apiErr(http.StatusInternalServerError, "exception.engine.secrets", fmt.Sprintf("The %s %s cannot be used: %v.", what, refOrName, err),
			fmt.Sprintf("Restore %s from a backup of the engine's data directory, or delete the %s and create it again.", se.KeyPath, what))
	case err != nil:
		return badRequest(err.Error()+".", "Use the object's reference.")
	}
	if !ok {
		return notFound(what, refOrName, fmt.Sprintf("List them with GET %sdelphix/%s.", APIPrefix, kind))
	}
	return nil
}

// The request bodies of the data-object resources (internal/engineapi).
type (
	EnvironmentCreateParameters  = engineapi.EnvironmentCreateParameters
	SourceConfigCreateParameters = engineapi.SourceConfigCreateParameters
	LinkParameters               = engineapi.LinkParameters
	ProvisionParameters          = engineapi.ProvisionParameters
	ContainerOpParameters        = engineapi.ContainerOpParameters
)

// ---- jobs ----

func (e *Engine) handleJob(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ref := r.PathValue("ref")
	var id int64
	if _, err := fmt.Sscanf(ref, "JOB-%d", &id); err != nil || fmt.Sprintf("JOB-%d", id) != ref {
		return notFound("job", ref, "Use the job reference a request returned.")
	}
	j, err := e.store.Job(r.Context(), id)
	if err != nil {
		return internalErr(err)
	}
	if j == nil {
		return notFound("job", ref, "Use the job reference a request returned.")
	}
	a, err := e.store.Action(r.Context(), fmt.Sprintf("ACTION-%d", j.ActionID))
	if err != nil || a == nil {
		return internalErr(fmt.Errorf("the action of %s is missing", ref))
	}
	writeOK(w, jobObject(j, a), nil, nil)
	return nil
}

// ---- environments ----

func (e *Engine) handleEnvironments(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	items, err := e.store.ListObjects(r.Context(), store.KindEnvironment, "")
	if err != nil {
		return internalErr(err)
	}
	writeList(w, rawList(items))
	return nil
}

func (e *Engine) handleEnvironment(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var env Environment
	if err := e.find(r.Context(), store.KindEnvironment, "environment", r.PathValue("ref"), &env); err != nil {
		return err
	}
	writeOK(w, env, nil, nil)
	return nil
}

func (e *Engine) handleEnvironmentCreate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p EnvironmentCreateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	var problems []string
	if strings.TrimSpace(p.Name) == "" {
		problems = append(problems, "/name: the environment needs a name")
	}
	env := Environment{Type: "UnixHostEnvironment", Name: p.Name, HostType: p.HostType, Created: store.FormatTime(e.cfg.Clock())}
	switch p.HostType {
	case engineapi.HostLocal:
		u, err := user.Current()
		if err != nil {
			return internalErr(err)
		}
		env.User = u.Username
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
		if p.Host == "" {
			problems = append(problems, "/host: an SSH environment needs a host")
		}
		if p.User == "" {
			problems = append(problems, "/user: an SSH environment needs a user")
		}
		if env.Port < 1 || env.Port > 65535 {
			problems = append(problems, fmt.Sprintf("/port: %d is not a TCP port", env.Port))
		}
		if !filepath.IsAbs(p.SSHKeyFile) {
			problems = append(problems, "/sshKeyFile: give the absolute path of the private key file the engine logs in with")
		} else if _, err := os.Stat(p.SSHKeyFile); err != nil {
			problems = append(problems, fmt.Sprintf("/sshKeyFile: the engine cannot read %s: %v", p.SSHKeyFile, err))
		}
		env.SSHKeyFile = p.SSHKeyFile
		if !p.InsecureIgnoreHostKey {
			env.KnownHostsFile = p.KnownHostsFile
			if p.KnownHostsFile != "" && !filepath.IsAbs(p.KnownHostsFile) {
				problems = append(problems, "/knownHostsFile: give an absolute path")
			} else if _, err := os.Stat(exec.KnownHostsFile(env)); err != nil {
				problems = append(problems, fmt.Sprintf("/knownHostsFile: the engine cannot read %s to verify the host key: %v (or, for a test host only, set insecureIgnoreHostKey)", exec.KnownHostsFile(env), err))
			}
		}
		env.ScratchPath = "/tmp/dvp-scratch"
		env.BinaryPath = "/tmp/dvp-toolkit"
	default:
		problems = append(problems, fmt.Sprintf("/hostType: %q is not \"local\" or \"ssh\"", p.HostType))
	}
	if len(problems) > 0 {
		return apiErr(http.StatusBadRequest, "exception.validation.parameters",
			fmt.Sprintf("The environment cannot be added: %d problem(s):\n%s", len(problems), strings.Join(problems, "\n")),
			"Fix the values at the JSON pointers listed and send the request again.")
	}
	ref, err := e.store.CreateObject(r.Context(), store.KindEnvironment, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		env.Reference = ref
		if env.HostType == engineapi.HostLocal {
			env.ScratchPath = filepath.Join(e.cfg.DataDir, store.ScratchDir, ref)
		} else {
			env.ScratchPath += "/" + ref
		}
		return &env, env.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return conflict(fmt.Sprintf("An environment named %q exists already.", p.Name), "Choose another name, or refresh the existing environment.")
	}
	if err != nil {
		return internalErr(err)
	}
	return e.startJob(w, q, "ENVIRONMENT_CREATE", fmt.Sprintf("Add environment %q", env.Name), ref, env.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			if err := e.checkEnvironment(ctx, j, env); err != nil {
				// An environment the engine cannot reach is not added.
				e.store.DeleteObject(context.Background(), store.KindEnvironment, ref)
				return err
			}
			j.Progress(10)
			return e.discover(ctx, j, env)
		})
}

func (e *Engine) handleEnvironmentRefresh(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var env Environment
	if err := e.find(r.Context(), store.KindEnvironment, "environment", r.PathValue("ref"), &env); err != nil {
		return err
	}
	return e.startJob(w, q, "ENVIRONMENT_REFRESH", fmt.Sprintf("Refresh environment %q", env.Name), env.Reference, env.Name, env.Reference, env.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			var cur Environment
			if ok, err := e.store.GetObject(ctx, store.KindEnvironment, env.Reference, &cur); err != nil || !ok {
				return failf("", "The environment %s was deleted.", env.Name)
			}
			if err := e.checkEnvironment(ctx, j, cur); err != nil {
				return err
			}
			j.Progress(10)
			return e.discover(ctx, j, cur)
		})
}

func (e *Engine) handleEnvironmentDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	var env Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", r.PathValue("ref"), &env); err != nil {
		return err
	}
	cs, err := store.ListAs[Container](ctx, e.store, store.KindContainer, "")
	if err != nil {
		return internalErr(err)
	}
	for _, c := range cs {
		if c.Environment == env.Reference || c.SourceEnv == env.Reference {
			return conflict(fmt.Sprintf("The environment %q is used by %s.", env.Name, c.Name), "Delete the dSources and VDBs that use it first.")
		}
	}
	repos, err := store.ListAs[Repository](ctx, e.store, store.KindRepository, env.Reference)
	if err != nil {
		return internalErr(err)
	}
	for _, repo := range repos {
		scs, err := store.ListAs[SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
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
	writeOK(w, "", nil, nil)
	return nil
}

// ---- repositories and source configs ----

func (e *Engine) handleRepositories(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	parent := ""
	if v := r.URL.Query().Get("environment"); v != "" {
		var env Environment
		if err := e.find(r.Context(), store.KindEnvironment, "environment", v, &env); err != nil {
			return err
		}
		parent = env.Reference
	}
	items, err := e.store.ListObjects(r.Context(), store.KindRepository, parent)
	if err != nil {
		return internalErr(err)
	}
	writeList(w, rawList(items))
	return nil
}

func (e *Engine) handleRepository(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	doc, err := e.findShown(r.Context(), store.KindRepository, "repository", r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeOK(w, doc, nil, nil)
	return nil
}

// findRepository resolves a repository by reference, or by name on an
// environment (names repeat across environments).
func (e *Engine) findRepository(ctx context.Context, envRefOrName, refOrName string) (*Repository, *APIError) {
	var repo Repository
	if ok, err := e.store.GetObject(ctx, store.KindRepository, refOrName, &repo); err != nil {
		return nil, internalErr(err)
	} else if ok {
		return &repo, nil
	}
	if envRefOrName == "" {
		return nil, badRequest(fmt.Sprintf("The repository %q is not a reference, and no environment was given to find it by name.", refOrName), "Give the environment too, or the repository's reference.")
	}
	var env Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", envRefOrName, &env); err != nil {
		return nil, err
	}
	repos, err := store.ListAs[Repository](ctx, e.store, store.KindRepository, env.Reference)
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

func (e *Engine) handleSourceConfigs(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	parent := ""
	if v := r.URL.Query().Get("repository"); v != "" {
		repo, err := e.findRepository(ctx, r.URL.Query().Get("environment"), v)
		if err != nil {
			return err
		}
		parent = repo.Reference
	}
	items, err := e.store.ListObjects(ctx, store.KindSourceConfig, parent)
	if err != nil {
		return internalErr(err)
	}
	writeList(w, rawList(items))
	return nil
}

func (e *Engine) handleSourceConfig(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	doc, err := e.findShown(r.Context(), store.KindSourceConfig, "source config", r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeOK(w, doc, nil, nil)
	return nil
}

func (e *Engine) toolkitOf(ctx context.Context, ref string) (*store.Toolkit, *artifact.Artifact, *APIError) {
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

func (e *Engine) handleSourceConfigCreate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	var p SourceConfigCreateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	repo, aerr := e.findRepository(ctx, p.Environment, p.Repository)
	if aerr != nil {
		return aerr
	}
	t, a, aerr := e.toolkitOf(ctx, repo.Toolkit)
	if aerr != nil {
		return aerr
	}
	if aerr := e.validateParams(t, a, "sourceConfigDefinition", "source config parameters", p.Parameters); aerr != nil {
		return aerr
	}
	dd := a.DiscoveryDefinition
	id := identityKey(p.Parameters, dd.SourceConfigIdentityFields)
	have, err := store.ListAs[SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
	if err != nil {
		return internalErr(err)
	}
	for _, sc := range have {
		if sc.Identity == id {
			return conflict(fmt.Sprintf("The source config %q (%s) of repository %q has the same identity (%s: %s).", sc.Name, sc.Reference, repo.Name, strings.Join(dd.SourceConfigIdentityFields, ", "), id),
				"Use the existing source config, or change the identity fields.")
		}
	}
	name := p.Name
	if name == "" {
		name = nameOf(p.Parameters, dd.SourceConfigNameField)
	}
	if name == "" {
		name = id
	}
	compact, _ := compactJSON(p.Parameters)
	ref, err := e.store.CreateObject(ctx, store.KindSourceConfig, repo.Reference, false, e.cfg.Clock(), func(ref string) (any, string) {
		return &SourceConfig{Type: "AppDataSourceConfig", Reference: ref, Name: name, Repository: repo.Reference, Environment: repo.Environment,
			Toolkit: repo.Toolkit, Parameters: compact, Identity: id}, name
	})
	if err != nil {
		return internalErr(err)
	}
	writeOK(w, ref, nil, nil)
	return nil
}

func compactJSON(raw json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw, err
	}
	b, err := marshalNoEscape(v)
	return b, err
}

func (e *Engine) handleSourceConfigDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	var sc SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", r.PathValue("ref"), &sc); err != nil {
		return err
	}
	cs, err := store.ListAs[Container](ctx, e.store, store.KindContainer, "")
	if err != nil {
		return internalErr(err)
	}
	for _, c := range cs {
		if c.SourceConfig == sc.Reference {
			return conflict(fmt.Sprintf("The source config %q is used by %s.", sc.Name, c.Name), "Delete the dSource or VDB first.")
		}
	}
	if err := e.store.DeleteObject(ctx, store.KindSourceConfig, sc.Reference); err != nil {
		return internalErr(err)
	}
	writeOK(w, "", nil, nil)
	return nil
}

// ---- dSources and VDBs ----

func (e *Engine) handleContainers(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	items, err := e.store.ListObjects(r.Context(), store.KindContainer, "")
	if err != nil {
		return internalErr(err)
	}
	writeList(w, rawList(items))
	return nil
}

func (e *Engine) handleContainer(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	doc, err := e.findShown(r.Context(), store.KindContainer, "dSource or VDB", r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeOK(w, doc, nil, nil)
	return nil
}

func (e *Engine) validateSnapshotParams(t *store.Toolkit, a *artifact.Artifact, raw json.RawMessage) *APIError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return e.validateParams(t, a, "snapshotParametersDefinition", "snapshot parameters", raw)
}

func (e *Engine) handleLink(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	var p LinkParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	if strings.TrimSpace(p.Name) == "" {
		return badRequest("The dSource needs a name.", "Give it a name.")
	}
	var sc SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", p.SourceConfig, &sc); err != nil {
		return err
	}
	if sc.Container != "" {
		return conflict(fmt.Sprintf("The source config %q belongs to the VDB %s.", sc.Name, sc.Container), "Link another source config.")
	}
	t, a, aerr := e.toolkitOf(ctx, sc.Toolkit)
	if aerr != nil {
		return aerr
	}
	if aerr := e.validateParams(t, a, "linkedSourceDefinition", "dSource parameters", p.Parameters); aerr != nil {
		return aerr
	}
	if aerr := e.validateSnapshotParams(t, a, p.SnapshotParameters); aerr != nil {
		return aerr
	}
	pluginType := "DIRECT"
	if a.LinkedSourceDefinition.Type == artifact.TypeLinkedStagedSourceDefinition {
		pluginType = "STAGED"
	}
	envRef := sc.Environment
	if pluginType == "STAGED" && p.StagingEnvironment != "" {
		var env Environment
		if err := e.find(ctx, store.KindEnvironment, "staging environment", p.StagingEnvironment, &env); err != nil {
			return err
		}
		envRef = env.Reference
	}
	var repo Repository
	if ok, err := e.store.GetObject(ctx, store.KindRepository, sc.Repository, &repo); err != nil || !ok {
		return notFound("repository", sc.Repository, "Refresh the environment.")
	}
	compact, _ := compactJSON(p.Parameters)
	var c Container
	ref, err := e.store.CreateObject(ctx, store.KindContainer, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		c = Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: "DSOURCE", Toolkit: t.Ref(), PluginType: pluginType,
			GUID: newGUID(), SourceConfig: sc.Reference, Repository: repo.Reference, Environment: envRef, SourceEnv: sc.Environment,
			Parameters: compact, Mounts: []mountRecord{}, Enabled: true, Runtime: "ACTIVE",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock())}
		if pluginType == "DIRECT" {
			c.SourceEnv = ""
		}
		return &c, p.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return conflict(fmt.Sprintf("A dSource or VDB named %q exists already.", p.Name), "Choose another name.")
	}
	if err != nil {
		return internalErr(err)
	}
	if err := os.MkdirAll(c.Storage, 0o755); err != nil {
		return internalErr(err)
	}
	snapParams := p.SnapshotParameters
	return e.startJob(w, q, "DB_LINK", fmt.Sprintf("Link dSource %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			j.Info("event.dsource.linked", fmt.Sprintf("Linked dSource %s (%s) to source config %q; running its first sync (a resync).", p.Name, ref, sc.Name))
			err := e.containerJob(ctx, j, ref, func(w *wf) error { return w.sync(ctx, true, snapParams) })
			if err != nil {
				var je *jobError
				if !errors.As(err, &je) {
					_, action, _ := describeFailure(err)
					return &linkError{err: err, action: fmt.Sprintf("%s The dSource %s was created: fix the problem, then run its sync again (dvp dsource sync %s), or delete it.", action, p.Name, p.Name)}
				}
			}
			return err
		})
}

// linkError keeps a plugin failure of the first sync, with an action that
// says the dSource exists.
type linkError struct {
	err    error
	action string
}

func (l *linkError) Error() string { return l.err.Error() }
func (l *linkError) Unwrap() error { return l.err }

// containerJob loads a container and runs a workflow step on it.
func (e *Engine) containerJob(ctx context.Context, j *jobs.Job, ref string, step func(w *wf) error) error {
	var c Container
	ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c)
	if err != nil {
		return err
	}
	if !ok {
		return failf("", "%s was deleted.", ref)
	}
	w, err := e.newWF(ctx, j, &c)
	if err != nil {
		return err
	}
	defer w.close()
	return step(w)
}

func (e *Engine) handleProvision(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	var p ProvisionParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	if strings.TrimSpace(p.Name) == "" {
		return badRequest("The VDB needs a name.", "Give it a name.")
	}
	var snap Snapshot
	if err := e.find(ctx, store.KindSnapshot, "snapshot", p.Snapshot, &snap); err != nil {
		return err
	}
	t, a, aerr := e.toolkitOf(ctx, snap.Toolkit)
	if aerr != nil {
		return aerr
	}
	if aerr := e.validateParams(t, a, "virtualSourceDefinition", "VDB parameters", p.Parameters); aerr != nil {
		return aerr
	}
	var env Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", p.Environment, &env); err != nil {
		return err
	}
	var repo *Repository
	if p.Repository != "" {
		var aerr *APIError
		if repo, aerr = e.findRepository(ctx, env.Reference, p.Repository); aerr != nil {
			return aerr
		}
	} else {
		repos, err := store.ListAs[Repository](ctx, e.store, store.KindRepository, env.Reference)
		if err != nil {
			return internalErr(err)
		}
		for i := range repos {
			if repos[i].Toolkit == t.Ref() && repo == nil {
				repo = &repos[i]
			}
		}
		if repo == nil {
			return notFound("repository", "of plugin "+a.Name+" on "+env.Name, "Refresh the environment so that the plugin discovers its repositories, or give --repository.")
		}
	}
	if repo.Toolkit != t.Ref() || repo.Environment != env.Reference {
		return badRequest(fmt.Sprintf("The repository %q is not a repository of plugin %q on %s.", repo.Name, a.Name, env.Name), "Choose a repository of that plugin on the target environment.")
	}
	compact, _ := compactJSON(p.Parameters)
	var c Container
	ref, err := e.store.CreateObject(ctx, store.KindContainer, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		c = Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: "VDB", Toolkit: t.Ref(), PluginType: "VIRTUAL",
			GUID: newGUID(), Repository: repo.Reference, Environment: env.Reference, Parameters: compact, Mounts: []mountRecord{},
			ParentSnapshot: snap.Reference, Parent: snap.Container, Enabled: true, Runtime: "UNKNOWN",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock())}
		return &c, p.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return conflict(fmt.Sprintf("A dSource or VDB named %q exists already.", p.Name), "Choose another name.")
	}
	if err != nil {
		return internalErr(err)
	}
	return e.startJob(w, q, "DB_PROVISION", fmt.Sprintf("Provision VDB %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			err := e.containerJob(ctx, j, ref, func(w *wf) error {
				if err := w.replaceStorage(ctx, &snap); err != nil {
					return err
				}
				j.Progress(30)
				if err := w.mountSpec(ctx); err != nil {
					return err
				}
				j.Progress(60)
				if err := w.configure(ctx, "virtual.configure", &snap); err != nil {
					return err
				}
				w.c.Runtime = "ACTIVE"
				return w.save(ctx)
			})
			if err != nil {
				// A VDB that failed to provision is removed, storage and all.
				e.removeContainer(context.Background(), j, ref)
				j.Info("event.vdb.removed", fmt.Sprintf("Removed the VDB %s that failed to provision.", p.Name))
			}
			return err
		})
}

// removeContainer unmounts and deletes a container, its snapshots, its
// source config (VDBs) and its storage.
func (e *Engine) removeContainer(ctx context.Context, j *jobs.Job, ref string) {
	var c Container
	if ok, _ := e.store.GetObject(ctx, store.KindContainer, ref, &c); !ok {
		return
	}
	w := &wf{e: e, j: j, c: &c, envs: map[string]Environment{}, x: map[string]exec.Executor{}}
	for _, m := range c.Mounts {
		w.unmountOne(ctx, m)
	}
	w.close()
	snaps, _ := store.ListAs[Snapshot](ctx, e.store, store.KindSnapshot, ref)
	for _, s := range snaps {
		os.RemoveAll(filepath.Join(e.cfg.DataDir, store.SnapshotsDir, s.Reference))
		e.store.DeleteObject(ctx, store.KindSnapshot, s.Reference)
	}
	if c.ContainerType == "VDB" && c.SourceConfig != "" {
		e.store.DeleteObject(ctx, store.KindSourceConfig, c.SourceConfig)
	}
	os.RemoveAll(filepath.Join(e.cfg.DataDir, store.StorageDir, ref))
	e.store.DeleteObject(ctx, store.KindContainer, ref)
}

func (e *Engine) handleContainerOp(w http.ResponseWriter, r *http.Request, q *request, op string) *APIError {
	ctx := r.Context()
	var p ContainerOpParameters
	if r.ContentLength != 0 {
		if err := readJSON(r, &p); err != nil {
			return err
		}
	}
	var c Container
	if err := e.find(ctx, store.KindContainer, "dSource or VDB", r.PathValue("ref"), &c); err != nil {
		return err
	}
	if want := containerOps[op]; want != "" && want != c.ContainerType {
		what := map[string]string{"DSOURCE": "dSources", "VDB": "VDBs"}[want]
		return badRequest(fmt.Sprintf("%s is a %s: %s applies to %s only.", c.Name, strings.ToLower(map[string]string{"DSOURCE": "dSource", "VDB": "VDB"}[c.ContainerType]), op, what), "Choose a "+map[string]string{"DSOURCE": "dSource", "VDB": "VDB"}[want]+".")
	}
	t, a, aerr := e.toolkitOf(ctx, c.Toolkit)
	if aerr != nil {
		return aerr
	}
	var snap Snapshot
	switch op {
	case "sync":
		if aerr := e.validateSnapshotParams(t, a, p.SnapshotParameters); aerr != nil {
			return aerr
		}
	case "refresh", "rollback":
		if p.Snapshot != "" {
			if err := e.find(ctx, store.KindSnapshot, "snapshot", p.Snapshot, &snap); err != nil {
				return err
			}
		} else {
			// refresh: the newest snapshot of the parent; rollback: the VDB's newest.
			of := c.Parent
			if op == "rollback" {
				of = c.Reference
			}
			all, err := store.ListAs[Snapshot](ctx, e.store, store.KindSnapshot, of)
			if err != nil {
				return internalErr(err)
			}
			var snaps []Snapshot
			for _, s := range all {
				if s.Dir != "" { // not one being taken
					snaps = append(snaps, s)
				}
			}
			if len(snaps) == 0 {
				return notFound("snapshot", "of "+of, "Take a snapshot first (sync the dSource, or snapshot the VDB), or name one.")
			}
			snap = snaps[len(snaps)-1]
		}
		if snap.Toolkit != c.Toolkit {
			return badRequest(fmt.Sprintf("The snapshot %s is not a snapshot of plugin %q.", snap.Reference, a.Name), "Choose a snapshot of the same plugin.")
		}
	case "delete":
		if c.ContainerType == "DSOURCE" {
			cs, err := store.ListAs[Container](ctx, e.store, store.KindContainer, "")
			if err != nil {
				return internalErr(err)
			}
			for _, v := range cs {
				if v.Parent == c.Reference {
					return conflict(fmt.Sprintf("The dSource %q has the VDB %q.", c.Name, v.Name), "Delete its VDBs first.")
				}
			}
		}
	}
	kind := map[string]string{"DSOURCE": "dSource", "VDB": "VDB"}[c.ContainerType]
	title := fmt.Sprintf("%s %s %q", strings.ToUpper(op[:1])+op[1:], kind, c.Name)
	actionType := "DB_" + strings.ToUpper(op)
	if op == "sync" && p.Resync {
		title = fmt.Sprintf("Resync dSource %q", c.Name)
	}
	return e.startJob(w, q, actionType, title, c.Reference, c.Name, c.Reference, c.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			if op == "delete" {
				return e.deleteContainer(ctx, j, c.Reference)
			}
			return e.containerJob(ctx, j, c.Reference, func(w *wf) error { return w.operation(ctx, op, p, &snap) })
		})
}

// operation runs one container workflow (docs/workflows.md, "Workflows").
func (w *wf) operation(ctx context.Context, op string, p ContainerOpParameters, snap *Snapshot) error {
	dsource := w.c.ContainerType == "DSOURCE"
	staged := w.c.PluginType == "STAGED"
	switch op {
	case "sync":
		if !w.c.Enabled {
			return failf("Enable the dSource first.", "The dSource %s is disabled.", w.c.Name)
		}
		return w.sync(ctx, p.Resync, p.SnapshotParameters)
	case "refresh", "rollback":
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
			return err
		}
		if err := w.replaceStorage(ctx, snap); err != nil {
			return err
		}
		if err := w.mountSpec(ctx); err != nil {
			return err
		}
		cop := "virtual.configure"
		if op == "rollback" {
			cop = "virtual.reconfigure"
		}
		if err := w.configure(ctx, cop, snap); err != nil {
			return err
		}
		w.c.Runtime = "ACTIVE"
		return w.save(ctx)
	case "snapshot":
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if err := w.callOptional(ctx, "virtual.pre_snapshot", in); err != nil {
			return err
		}
		if err := w.syncBack(ctx); err != nil {
			return err
		}
		_, err = w.takeSnapshot(ctx, false, nil, func() (json.RawMessage, error) {
			var meta json.RawMessage
			if err := w.run.Call(ctx, "virtual.post_snapshot", in, &meta); err != nil {
				return nil, err
			}
			return meta, w.e.checkOutput(w.tk, w.art, "virtual.post_snapshot", "snapshotDefinition", meta)
		})
		return err
	case "start":
		if err := w.mountSpec(ctx); err != nil {
			return err
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if err := w.callOptional(ctx, "virtual.start", in); err != nil {
			return err
		}
		w.c.Runtime = "ACTIVE"
		return w.save(ctx)
	case "stop":
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if err := w.callOptional(ctx, "virtual.stop", in); err != nil {
			return err
		}
		w.c.Runtime = "INACTIVE"
		return w.save(ctx)
	case "status":
		statusOp := "virtual.status"
		var in map[string]any
		var err error
		if dsource {
			statusOp = "linked.status"
			if !staged {
				w.j.Info("event.status", fmt.Sprintf("%s: ACTIVE (DIRECT dSources have no status operation).", w.c.Name))
				return nil
			}
			in, err = w.linkedIn(ctx)
		} else {
			in, err = w.virtualIn(ctx)
		}
		if err != nil {
			return err
		}
		status := "ACTIVE"
		if w.run.HasOp(statusOp) {
			if err := w.run.Call(ctx, statusOp, in, &status); err != nil {
				return err
			}
		}
		w.c.Runtime = status
		w.j.Info("event.status", fmt.Sprintf("%s: %s.", w.c.Name, status))
		w.j.Result = status
		return w.save(ctx)
	case "enable":
		if dsource {
			if staged {
				if err := w.mountSpec(ctx); err != nil {
					return err
				}
				in, err := w.linkedIn(ctx)
				if err != nil {
					return err
				}
				if err := w.callOptional(ctx, "linked.start_staging", in); err != nil {
					return err
				}
			}
			w.c.Enabled = true
			return w.save(ctx)
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		status := "INACTIVE"
		if w.run.HasOp("virtual.status") {
			if err := w.run.Call(ctx, "virtual.status", in, &status); err != nil {
				return err
			}
		}
		if status == "INACTIVE" {
			if err := w.mountSpec(ctx); err != nil {
				return err
			}
			var s Snapshot
			w.e.store.GetObject(ctx, store.KindSnapshot, w.c.ParentSnapshot, &s)
			if err := w.configure(ctx, "virtual.reconfigure", &s); err != nil {
				return err
			}
		}
		w.c.Enabled, w.c.Runtime = true, "ACTIVE"
		return w.save(ctx)
	case "disable":
		if dsource {
			if staged {
				in, err := w.linkedIn(ctx)
				if err != nil {
					return err
				}
				if err := w.callOptional(ctx, "linked.stop_staging", in); err != nil {
					return err
				}
				if err := w.unmountAll(ctx); err != nil {
					return err
				}
			}
			w.c.Enabled = false
			return w.save(ctx)
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
			return err
		}
		if err := w.unmountAll(ctx); err != nil {
			return err
		}
		w.c.Enabled, w.c.Runtime = false, "INACTIVE"
		return w.save(ctx)
	}
	return fmt.Errorf("unknown operation %q", op)
}

// deleteContainer runs the delete workflow, then removes everything.
func (e *Engine) deleteContainer(ctx context.Context, j *jobs.Job, ref string) error {
	err := e.containerJob(ctx, j, ref, func(w *wf) error {
		if w.c.ContainerType == "DSOURCE" {
			if w.c.PluginType == "STAGED" && w.c.Enabled {
				in, err := w.linkedIn(ctx)
				if err != nil {
					return err
				}
				return w.callOptional(ctx, "linked.stop_staging", in)
			}
			return nil
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if w.c.Enabled {
			if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
				return err
			}
		}
		return w.callOptional(ctx, "virtual.cleanup", in)
	})
	if err != nil {
		return err
	}
	e.removeContainer(ctx, j, ref)
	j.Info("event.container.deleted", fmt.Sprintf("Deleted %s with its storage and snapshots.", ref))
	return nil
}

// ---- snapshots ----

func (e *Engine) handleSnapshots(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	ctx := r.Context()
	parent := ""
	if v := r.URL.Query().Get("database"); v != "" {
		var c Container
		if err := e.find(ctx, store.KindContainer, "dSource or VDB", v, &c); err != nil {
			return err
		}
		parent = c.Reference
	}
	items, err := e.store.ListObjects(ctx, store.KindSnapshot, parent)
	if err != nil {
		return internalErr(err)
	}
	writeList(w, rawList(items))
	return nil
}

func (e *Engine) handleSnapshot(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	doc, err := e.findShown(r.Context(), store.KindSnapshot, "snapshot", r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeOK(w, doc, nil, nil)
	return nil
}
