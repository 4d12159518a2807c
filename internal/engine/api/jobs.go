package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dvpkit/dvp/internal/engine/core"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// eventsSince reads the eventsSince query parameter: how many of a job's
// events the client has seen (0 when absent).
func eventsSince(r *http.Request) (int, *APIError) {
	v := r.URL.Query().Get(engineapi.QueryEventsSince)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, apiErr(http.StatusBadRequest, "exception.webservices.query.invalid",
			fmt.Sprintf("The query parameter %s=%q is not a count of events.", engineapi.QueryEventsSince, v),
			fmt.Sprintf("Give %s=N, N the number of the job's events already read (0 or more).", engineapi.QueryEventsSince))
	}
	return n, nil
}

func (srv *Server) handleJob(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	since, aerr := eventsSince(r)
	if aerr != nil {
		return aerr
	}
	j, err := srv.core.Job(r.Context(), r.PathValue("ref"), since)
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, j, nil, nil)
	return nil
}

func (srv *Server) handleJobs(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	qv := r.URL.Query()
	return listOf(w, r, func(p core.Page) ([]json.RawMessage, int, error) {
		return srv.core.Jobs(r.Context(), qv.Get(engineapi.QueryJobState), qv.Get(engineapi.QueryJobTarget), p)
	})
}

func (srv *Server) handleJobCancel(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	j, err := srv.core.CancelJob(r.Context(), q.caller(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, j, nil, nil)
	return nil
}
