package api

import (
	"encoding/json"
	"net/http"

	"github.com/dvpkit/dvp/internal/engine/core"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The data-object resources (docs/engine.md, "Environments, dSources and
// VDBs"): each decodes its request and calls the domain.

// listed answers a page of a list (items from p.Offset, of total), or the
// domain's refusal.
func listed(w http.ResponseWriter, p core.Page, items []json.RawMessage, total int, err error) *APIError {
	if err != nil {
		return fromCore(err)
	}
	writeList(w, items, p.Offset, total)
	return nil
}

// listOf answers GET of a list: the paging parameters read, then the page
// that get returns.
func listOf(w http.ResponseWriter, r *http.Request, get func(p core.Page) ([]json.RawMessage, int, error)) *APIError {
	p, perr := pageOf(r)
	if perr != nil {
		return perr
	}
	items, total, err := get(p)
	return listed(w, p, items, total, err)
}

// showObject is GET of one object of the kind, its secrets masked.
func showObject(kind string) func(srv *Server, w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return func(srv *Server, w http.ResponseWriter, r *http.Request, q *request) *APIError {
		doc, err := srv.core.Show(r.Context(), kind, r.PathValue("ref"))
		if err != nil {
			return fromCore(err)
		}
		writeOK(w, ready(doc), nil, nil)
		return nil
	}
}

// ---- environments ----

func (srv *Server) handleEnvironments(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) { return srv.core.Environments(r.Context(), p) })
}

func (srv *Server) handleEnvironment(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	env, err := srv.core.Environment(r.Context(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, env, nil, nil)
	return nil
}

func (srv *Server) handleEnvironmentCreate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.EnvironmentCreateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.CreateEnvironment(r.Context(), q.caller(), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleEnvironmentUpdate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.EnvironmentUpdateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.UpdateEnvironment(r.Context(), q.caller(), r.PathValue("ref"), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleEnvironmentRefresh(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	s, err := srv.core.RefreshEnvironment(r.Context(), q.caller(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleEnvironmentDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	if err := srv.core.DeleteEnvironment(r.Context(), r.PathValue("ref")); err != nil {
		return fromCore(err)
	}
	writeOK(w, "", nil, nil)
	return nil
}

// ---- repositories and source configs ----

func (srv *Server) handleRepositories(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) {
		return srv.core.Repositories(r.Context(), r.URL.Query().Get("environment"), p)
	})
}

func (srv *Server) handleSourceConfigs(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) {
		return srv.core.SourceConfigs(r.Context(), r.URL.Query().Get("environment"), r.URL.Query().Get("repository"), p)
	})
}

func (srv *Server) handleSourceConfigCreate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.SourceConfigCreateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	ref, err := srv.core.CreateSourceConfig(r.Context(), p)
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, ref, nil, nil)
	return nil
}

func (srv *Server) handleSourceConfigUpdate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.SourceConfigUpdateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	if err := srv.core.UpdateSourceConfig(r.Context(), r.PathValue("ref"), p); err != nil {
		return fromCore(err)
	}
	writeOK(w, "", nil, nil)
	return nil
}

func (srv *Server) handleSourceConfigDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	if err := srv.core.DeleteSourceConfig(r.Context(), r.PathValue("ref")); err != nil {
		return fromCore(err)
	}
	writeOK(w, "", nil, nil)
	return nil
}

// ---- dSources, VDBs and snapshots ----

func (srv *Server) handleContainers(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) { return srv.core.Containers(r.Context(), p) })
}

func (srv *Server) handleLink(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.LinkParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.Link(r.Context(), q.caller(), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleProvision(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.ProvisionParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.Provision(r.Context(), q.caller(), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

// handleContainerUpdate is POST delphix/database/{ref}: an update.
func (srv *Server) handleContainerUpdate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.ContainerUpdateParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.UpdateContainer(r.Context(), q.caller(), r.PathValue("ref"), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleCreateEmpty(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var p engineapi.EmptyVDBParameters
	if err := readJSON(r, &p); err != nil {
		return err
	}
	s, err := srv.core.CreateEmptyVDB(r.Context(), q.caller(), p)
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

// containerOp is POST delphix/database/{ref}/<op>: the body is optional.
func containerOp(op string) func(srv *Server, w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return func(srv *Server, w http.ResponseWriter, r *http.Request, q *request) *APIError {
		var p engineapi.ContainerOpParameters
		if r.ContentLength != 0 {
			if err := readJSON(r, &p); err != nil {
				return err
			}
		}
		s, err := srv.core.ContainerOp(r.Context(), q.caller(), r.PathValue("ref"), op, p)
		if err != nil {
			return fromCore(err)
		}
		writeStarted(w, s)
		return nil
	}
}

func (srv *Server) handleSnapshots(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) {
		return srv.core.Snapshots(r.Context(), r.URL.Query().Get("database"), p)
	})
}
