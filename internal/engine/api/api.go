// Package api is the local engine's HTTP API: the part of the Delphix
// Engine REST API that dvp and Delphix's Python client use, plus the data
// objects (docs/engine.md). It has one route table (Routes), decodes
// requests into the contract's types (internal/engineapi), checks the
// session, calls the domain (package core) and writes the envelopes:
// OKResult, DataResult, ListResult, ErrorResult. A *core.Error becomes an
// ErrorResult with its id, details and action, and the HTTP status of its
// kind; every message is masked by the redactor first.
//
// Sessions and single-use upload and download tokens live here, in
// memory: a restart logs everyone out, as an engine restart does.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engine/core"
	"github.com/dvpkit/dvp/internal/engine/guard"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/logging"
)

// APIError is an error the API reports as an ErrorResult.
type APIError struct {
	Status  int    // HTTP status
	ID      string // e.g. exception.webservices.login.failed
	Details string
	Action  string
}

func (e *APIError) Error() string { return e.Details }

func apiErr(status int, id, details, action string) *APIError {
	return &APIError{Status: status, ID: id, Details: details, Action: action}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, `{"type":"ErrorResult","status":"ERROR","error":{"type":"APIError","details":"internal error","action":"","id":"exception.internal","commandOutput":null,"diagnoses":[]}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, e *APIError) {
	writeJSON(w, e.Status, engineapi.ErrorResult{Type: engineapi.TypeErrorResult, Status: "ERROR", Error: engineapi.APIError{
		Type: "APIError", Details: e.Details, Action: e.Action, ID: e.ID, Diagnoses: []string{},
	}})
}

func strp(s string) *string { return &s }

// maxJSONBody bounds the JSON body of every request but uploads.
const maxJSONBody = 1 << 20

// readJSON decodes a JSON request body of at most maxJSONBody bytes.
func readJSON(r *http.Request, v any) *APIError {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return apiErr(http.StatusBadRequest, "exception.webservices.request.read", "The request body could not be read: "+err.Error()+".", "Run the dvp command again; if this comes back, look at the engine's log.")
	}
	if len(body) > maxJSONBody {
		return apiErr(http.StatusRequestEntityTooLarge, "exception.webservices.request.too.large", fmt.Sprintf("The request body is larger than %d bytes.", maxJSONBody), "Give smaller parameters (--params): no JSON request to the engine is larger than that.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", "The request body is not valid JSON for this resource: "+err.Error()+".", "Send a JSON object of the type this resource expects.")
	}
	return nil
}

// Config configures the HTTP API.
type Config struct {
	MaxUploadBytes   int64         // size limit of an uploaded artifact
	SessionTimeout   time.Duration // idle time after which a session ends
	UploadTokenTTL   time.Duration
	DownloadTokenTTL time.Duration
	Clock            func() time.Time
	Log              *slog.Logger
	Redactor         *logging.Redactor // masks every message of an answer
	// Throttle slows down failed logins (docs/engine.md, "The front
	// door"); nil: a default one.
	Throttle *guard.Throttle
	// UploadWait is how long an upload waits for room among the uploads
	// being received (twice MaxUploadBytes in all); 0: DefaultUploadWait.
	UploadWait time.Duration
}

// Server answers the API's requests with the domain core.
type Server struct {
	cfg       Config
	core      *core.Engine
	sessions  *sessions
	uploads   *tokens
	downloads *tokens
	handler   http.Handler
	// uploadRoom bounds the uploads received at once.
	uploadRoom *uploadRoom
	// busy logs the busy refusals (503), rate-limited.
	busy *busyLog
}

// New returns the API of the engine c.
func New(cfg Config, c *core.Engine) *Server {
	if cfg.Throttle == nil {
		cfg.Throttle = guard.NewThrottle(guard.ThrottleConfig{Clock: cfg.Clock})
	}
	srv := &Server{cfg: cfg, core: c,
		sessions:   newSessions(cfg.SessionTimeout, cfg.Clock),
		uploads:    newTokens("upload", cfg.UploadTokenTTL, cfg.Clock, maxUploadTokensPerSession, maxUploadTokens),
		downloads:  newTokens("download", cfg.DownloadTokenTTL, cfg.Clock, maxDownloadTokensPerSession, maxDownloadTokens),
		uploadRoom: newUploadRoom(2 * (cfg.MaxUploadBytes + multipartSlack)),
		busy:       newBusyLog(cfg.Clock),
	}
	srv.handler = srv.routes()
	return srv
}

// Handler is the API's HTTP handler.
func (srv *Server) Handler() http.Handler { return srv.handler }

// LoggedIn reports whether a request carries the cookie of a logged-in
// session (without marking the session used).
func (srv *Server) LoggedIn(r *http.Request) bool {
	c, err := r.Cookie(engineapi.SessionCookie)
	return err == nil && srv.sessions.loggedIn(c.Value)
}

// Sweep forgets idle sessions and old tokens, and removes the bundles
// generated for download tokens that expired unused.
func (srv *Server) Sweep() {
	srv.sessions.sweep()
	srv.uploads.sweep()
	for _, p := range srv.downloads.sweep() {
		os.Remove(p)
	}
}

// request is what a handler gets besides the HTTP request.
type request struct {
	session *session // nil on session and login requests without a session
}

// caller is the domain's view of the request's user.
func (q *request) caller() core.Caller {
	return core.Caller{User: q.session.user, UserRef: q.session.userRef, Session: q.session.key()}
}

// Route is one API resource.
type Route struct {
	Method  string
	Pattern string // under engineapi.APIPrefix, ServeMux syntax
	Public  bool   // reachable without a logged-in session
	handle  func(srv *Server, w http.ResponseWriter, r *http.Request, q *request) *APIError
}

// Routes lists every resource of the API.
func Routes() []Route {
	get, post := http.MethodGet, http.MethodPost
	rs := []Route{
		// session (session.go)
		{Method: post, Pattern: "delphix/session", Public: true, handle: (*Server).handleSession},
		{Method: post, Pattern: "delphix/login", Public: true, handle: (*Server).handleLogin},
		{Method: post, Pattern: "delphix/logout", handle: (*Server).handleLogout},
		// toolkits, uploads, actions, logs (toolkits.go, upload.go)
		{Method: post, Pattern: "delphix/toolkit/requestUploadToken", handle: (*Server).handleRequestUploadToken},
		{Method: post, Pattern: "delphix/data/upload", handle: (*Server).handleUpload},
		{Method: get, Pattern: "delphix/action/{ref}", handle: (*Server).handleAction},
		{Method: get, Pattern: "delphix/action/{ref}/getJob", handle: (*Server).handleActionJob},
		{Method: get, Pattern: "delphix/toolkit", handle: (*Server).handleToolkits},
		{Method: get, Pattern: "delphix/toolkit/{ref}", handle: (*Server).handleToolkit},
		{Method: post, Pattern: "delphix/toolkit/{ref}/delete", handle: (*Server).handleToolkitDelete},
		{Method: post, Pattern: "delphix/service/support/bundle/generate", handle: (*Server).handleBundleGenerate},
		{Method: get, Pattern: "delphix/data/downloadOutputStream", handle: (*Server).handleDownload},
		// environments, repositories, source configs (objects.go; docs/engine.md,
		// "Environments, dSources and VDBs")
		{Method: get, Pattern: "delphix/environment", handle: (*Server).handleEnvironments},
		{Method: post, Pattern: "delphix/environment", handle: (*Server).handleEnvironmentCreate},
		{Method: get, Pattern: "delphix/environment/{ref}", handle: (*Server).handleEnvironment},
		{Method: post, Pattern: "delphix/environment/{ref}", handle: (*Server).handleEnvironmentUpdate},
		{Method: post, Pattern: "delphix/environment/{ref}/refresh", handle: (*Server).handleEnvironmentRefresh},
		{Method: post, Pattern: "delphix/environment/{ref}/delete", handle: (*Server).handleEnvironmentDelete},
		{Method: get, Pattern: "delphix/repository", handle: (*Server).handleRepositories},
		{Method: get, Pattern: "delphix/repository/{ref}", handle: showObject(engineapi.KindRepository)},
		{Method: get, Pattern: "delphix/sourceconfig", handle: (*Server).handleSourceConfigs},
		{Method: post, Pattern: "delphix/sourceconfig", handle: (*Server).handleSourceConfigCreate},
		{Method: get, Pattern: "delphix/sourceconfig/{ref}", handle: showObject(engineapi.KindSourceConfig)},
		{Method: post, Pattern: "delphix/sourceconfig/{ref}", handle: (*Server).handleSourceConfigUpdate},
		{Method: post, Pattern: "delphix/sourceconfig/{ref}/delete", handle: (*Server).handleSourceConfigDelete},
		// dSources, VDBs, snapshots, jobs (containers.go)
		{Method: get, Pattern: "delphix/database", handle: (*Server).handleContainers},
		{Method: get, Pattern: "delphix/database/{ref}", handle: showObject(engineapi.KindContainer)},
		{Method: post, Pattern: "delphix/database/{ref}", handle: (*Server).handleContainerUpdate},
		{Method: post, Pattern: "delphix/database/link", handle: (*Server).handleLink},
		{Method: post, Pattern: "delphix/database/provision", handle: (*Server).handleProvision},
		{Method: post, Pattern: "delphix/database/createEmpty", handle: (*Server).handleCreateEmpty},
		{Method: get, Pattern: "delphix/snapshot", handle: (*Server).handleSnapshots},
		{Method: get, Pattern: "delphix/snapshot/{ref}", handle: showObject(engineapi.KindSnapshot)},
		// jobs (jobs.go; docs/engine.md, "Jobs")
		{Method: get, Pattern: "delphix/job", handle: (*Server).handleJobs},
		{Method: get, Pattern: "delphix/job/{ref}", handle: (*Server).handleJob},
		{Method: post, Pattern: "delphix/job/{ref}/cancel", handle: (*Server).handleJobCancel},
	}
	for _, op := range engineapi.ContainerOps {
		rs = append(rs, Route{Method: post, Pattern: "delphix/database/{ref}/" + op.Name, handle: containerOp(op.Name)})
	}
	return rs
}

func (srv *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Routes that share a pattern (GET and POST of a collection) share a
	// handler that picks the route by method.
	groups := map[string][]Route{}
	var order []string
	for _, rt := range Routes() {
		if _, ok := groups[rt.Pattern]; !ok {
			order = append(order, rt.Pattern)
		}
		groups[rt.Pattern] = append(groups[rt.Pattern], rt)
	}
	for _, p := range order {
		mux.Handle(engineapi.APIPrefix+p, srv.wrap(groups[p]))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiErr(http.StatusNotFound, "exception.webservices.notfound",
			fmt.Sprintf("The resource %q does not exist.", r.URL.Path),
			"Check the engine address given with -e, DVP_ENGINE or engine in ~/.dvp/config: this engine serves the API of dvp engine serve (dvp help local-engine)."))
	})
	return mux
}

// wrap applies the method check, the session check and the error envelope.
func (srv *Server) wrap(group []Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rt Route
		var allowed []string
		for _, g := range group {
			allowed = append(allowed, g.Method)
			if g.Method == r.Method {
				rt = g
			}
		}
		if rt.handle == nil {
			allow := strings.Join(allowed, ", ")
			w.Header().Set("Allow", allow)
			writeError(w, apiErr(http.StatusMethodNotAllowed, "exception.webservices.method.not.allowed",
				fmt.Sprintf("The method %s is not allowed on %s.", r.Method, r.URL.Path), "Use "+strings.Join(allowed, " or ")+"."))
			return
		}
		q := &request{}
		if c, err := r.Cookie(engineapi.SessionCookie); err == nil {
			q.session = srv.sessions.get(c.Value)
		}
		if !rt.Public && (q.session == nil || !q.session.loggedIn()) {
			writeError(w, apiErr(http.StatusUnauthorized, "exception.webservices.session.not.logged.in",
				"The request needs a logged-in session, and this one has none or it has expired.",
				"Log in again: every dvp command logs in by itself (a client of the API starts a session, then logs in)."))
			return
		}
		if err := rt.handle(srv, w, r, q); err != nil {
			// An error may quote a value of the request or of a plugin.
			err.Details, err.Action = srv.cfg.Redactor.Redact(err.Details), srv.cfg.Redactor.Redact(err.Action)
			switch {
			case err.Status == http.StatusServiceUnavailable:
				srv.busy.refused(srv.cfg.Log, r.URL.Path, err)
			case err.Status >= 500:
				srv.cfg.Log.Error("request failed", "path", r.URL.Path, "error", err.Details)
			}
			if err.Status == http.StatusServiceUnavailable || err.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "5")
			}
			writeError(w, err)
		}
	})
}

func internalErr(err error) *APIError {
	return apiErr(http.StatusInternalServerError, "exception.internal", "The engine failed: "+err.Error()+".", "Look at the engine's log, then try again.")
}

// statusOf is the HTTP status of each kind of refusal of the domain.
var statusOf = map[core.Kind]int{
	core.Invalid:  http.StatusBadRequest,
	core.NotFound: http.StatusNotFound,
	core.Conflict: http.StatusConflict,
	core.Internal: http.StatusInternalServerError,
	core.Busy:     http.StatusServiceUnavailable,
	core.TooMany:  http.StatusTooManyRequests,
}

// fromCore is the API error of an error of the domain.
func fromCore(err error) *APIError {
	var ce *core.Error
	if errors.As(err, &ce) {
		status, ok := statusOf[ce.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		return apiErr(status, ce.ID, ce.Details, ce.Action)
	}
	return internalErr(err)
}

// writeStarted answers a request that started work: the result (an
// object reference, or ""), the job and the action.
func writeStarted(w http.ResponseWriter, s core.Started) {
	var job, action *string
	if s.Job != "" {
		job = strp(s.Job)
	}
	if s.Action != "" {
		action = strp(s.Action)
	}
	writeOK(w, s.Result, job, action)
}

func (srv *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	c := &http.Cookie{Name: engineapi.SessionCookie, Value: s.id, Path: "/resources", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
	http.SetCookie(w, c)
}
