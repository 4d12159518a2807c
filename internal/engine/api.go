package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// APIPrefix is the path of every API resource.
const APIPrefix = engineapi.APIPrefix

// SessionCookie is the name of the session cookie.
const SessionCookie = engineapi.SessionCookie

// Envelope types (internal/engineapi).
const (
	typeOK    = engineapi.TypeOKResult
	typeData  = engineapi.TypeDataResult
	typeList  = engineapi.TypeListResult
	typeError = engineapi.TypeErrorResult
)

// The envelopes (internal/engineapi). okResult is an OKResult or a
// DataResult.
type (
	okResult    = engineapi.OKResult[any]
	listResult  = engineapi.ListResult[any]
	errorResult = engineapi.ErrorResult
	apiError    = engineapi.APIError
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

func writeOK(w http.ResponseWriter, result any, job, action *string) {
	writeJSON(w, http.StatusOK, okResult{Type: typeOK, Status: "OK", Result: result, Job: job, Action: action})
}

func writeData(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, okResult{Type: typeData, Status: "OK", Result: result})
}

func writeList(w http.ResponseWriter, items []any) {
	if items == nil {
		items = []any{}
	}
	writeJSON(w, http.StatusOK, listResult{Type: typeList, Status: "OK", Result: items, Total: len(items)})
}

func writeError(w http.ResponseWriter, e *APIError) {
	writeJSON(w, e.Status, errorResult{Type: typeError, Status: "ERROR", Error: apiError{
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
		return apiErr(http.StatusBadRequest, "exception.webservices.request.read", "The request body could not be read: "+err.Error()+".", "Send the request again.")
	}
	if len(body) > maxJSONBody {
		return apiErr(http.StatusRequestEntityTooLarge, "exception.webservices.request.too.large", fmt.Sprintf("The request body is larger than %d bytes.", maxJSONBody), "Send a smaller request.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", "The request body is not valid JSON for this resource: "+err.Error()+".", "Send a JSON object of the type this resource expects.")
	}
	return nil
}

// request is what a handler gets besides the HTTP request.
type request struct {
	session *session // nil on session and login requests without a session
}

// route is one API resource.
type route struct {
	Method  string
	Pattern string // under APIPrefix, ServeMux syntax
	Public  bool   // reachable without a logged-in session
	handle  func(e *Engine, w http.ResponseWriter, r *http.Request, q *request) *APIError
}

// apiRoutes lists every resource of the API.
var apiRoutes = []route{
	{Method: http.MethodPost, Pattern: "delphix/session", Public: true, handle: (*Engine).handleSession},
	{Method: http.MethodPost, Pattern: "delphix/login", Public: true, handle: (*Engine).handleLogin},
	{Method: http.MethodPost, Pattern: "delphix/logout", handle: (*Engine).handleLogout},
	{Method: http.MethodPost, Pattern: "delphix/toolkit/requestUploadToken", handle: (*Engine).handleRequestUploadToken},
	{Method: http.MethodPost, Pattern: "delphix/data/upload", handle: (*Engine).handleUpload},
	{Method: http.MethodGet, Pattern: "delphix/action/{ref}", handle: (*Engine).handleAction},
	{Method: http.MethodGet, Pattern: "delphix/action/{ref}/getJob", handle: (*Engine).handleActionJob},
	{Method: http.MethodGet, Pattern: "delphix/toolkit", handle: (*Engine).handleToolkits},
	{Method: http.MethodGet, Pattern: "delphix/toolkit/{ref}", handle: (*Engine).handleToolkit},
	{Method: http.MethodPost, Pattern: "delphix/toolkit/{ref}/delete", handle: (*Engine).handleToolkitDelete},
	{Method: http.MethodPost, Pattern: "delphix/service/support/bundle/generate", handle: (*Engine).handleBundleGenerate},
	{Method: http.MethodGet, Pattern: "delphix/data/downloadOutputStream", handle: (*Engine).handleDownload},
}

func (e *Engine) routes() http.Handler {
	mux := http.NewServeMux()
	// Routes that share a pattern (GET and POST of a collection) share a
	// handler that picks the route by method.
	groups := map[string][]route{}
	var order []string
	for _, rt := range apiRoutes {
		if _, ok := groups[rt.Pattern]; !ok {
			order = append(order, rt.Pattern)
		}
		groups[rt.Pattern] = append(groups[rt.Pattern], rt)
	}
	for _, p := range order {
		mux.Handle(APIPrefix+p, e.wrap(groups[p]))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiErr(http.StatusNotFound, "exception.webservices.notfound",
			fmt.Sprintf("The resource %q does not exist.", r.URL.Path),
			"Check the URL: this engine serves the resources under "+APIPrefix+" that dvp upload and dvp download-logs use."))
	})
	return mux
}

// wrap applies the method check, the session check and the error envelope.
func (e *Engine) wrap(group []route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rt route
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
		if c, err := r.Cookie(SessionCookie); err == nil {
			q.session = e.sessions.get(c.Value)
		}
		if !rt.Public && (q.session == nil || !q.session.loggedIn()) {
			writeError(w, apiErr(http.StatusUnauthorized, "exception.webservices.session.not.logged.in",
				"The request needs a logged-in session, and this one has none or it has expired.",
				"Start a session (POST "+APIPrefix+"delphix/session) and log in (POST "+APIPrefix+"delphix/login); dvp upload and dvp download-logs do this for you."))
			return
		}
		if err := rt.handle(e, w, r, q); err != nil {
			// An error may quote a value of the request or of a plugin.
			err.Details, err.Action = e.cfg.Redactor.Redact(err.Details), e.cfg.Redactor.Redact(err.Action)
			if err.Status >= 500 {
				e.cfg.Log.Error("request failed", "path", r.URL.Path, "error", err.Details)
			}
			writeError(w, err)
		}
	})
}

func internalErr(err error) *APIError {
	return apiErr(http.StatusInternalServerError, "exception.internal", "The engine failed: "+err.Error()+".", "Look at the engine's log, then try again.")
}

func (e *Engine) setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	c := &http.Cookie{Name: SessionCookie, Value: s.id, Path: "/resources", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
	http.SetCookie(w, c)
}

// ---- session, login, logout ----

type apiVersionBody struct {
	Type  string          `json:"type"`
	Major json.RawMessage `json:"major"`
	Minor json.RawMessage `json:"minor"`
	Micro json.RawMessage `json:"micro"`
}

type sessionBody struct {
	Type    string          `json:"type"`
	Version *apiVersionBody `json:"version"`
}

type apiSession struct {
	Type    string  `json:"type"`
	Version any     `json:"version"`
	Locale  *string `json:"locale"`
	Client  *string `json:"client"`
}

func (e *Engine) handleSession(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var body sessionBody
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Type != "APISession" {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", fmt.Sprintf("The session request has type %q, not \"APISession\".", body.Type), "Send an APISession object.")
	}
	if body.Version == nil {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", "The session request has no API version.", "Send the APIVersion your client speaks in the version field.")
	}
	v := body.Version
	var major, minor, micro int
	okNum := func(raw json.RawMessage, dst *int) bool {
		return len(raw) > 0 && json.Unmarshal(raw, dst) == nil && *dst >= 0
	}
	text := func(raw json.RawMessage) string { return strings.TrimSpace(string(raw)) }
	shown := fmt.Sprintf("%s.%s.%s", text(v.Major), text(v.Minor), text(v.Micro))
	if v.Type != "APIVersion" || !okNum(v.Major, &major) || !okNum(v.Minor, &minor) || !okNum(v.Micro, &micro) ||
		major != APIVersion.Major || APIVersion.Less(versionOf(major, minor, micro)) {
		// As the Delphix Engine does, an unsupported version is an ErrorResult
		// with HTTP 200 (docs/engine.md, "Endpoints").
		return apiErr(http.StatusOK, "exception.webservices.session.invalid.version",
			fmt.Sprintf("Invalid API version %q.", shown),
			"Change the API version to one supported by your version of the Delphix Engine. Review the Release Notes for your Delphix Engine version to determine which API version is supported.")
	}
	s := q.session
	if s == nil {
		s = e.sessions.create()
		e.setSessionCookie(w, r, s)
	}
	writeOK(w, apiSession{Type: "APISession", Version: versionOf(major, minor, micro)}, nil, nil)
	return nil
}

func versionOf(major, minor, micro int) artifact.APIVersion {
	return artifact.APIVersion{Type: artifact.TypeAPIVersion, Major: major, Minor: minor, Micro: micro}
}

type loginBody struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (e *Engine) handleLogin(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var body loginBody
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Type != "LoginRequest" {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", fmt.Sprintf("The login request has type %q, not \"LoginRequest\".", body.Type), "Send a LoginRequest object.")
	}
	if q.session == nil {
		return apiErr(http.StatusUnauthorized, "exception.webservices.session.missing",
			"There is no session to log in to, or it has expired.",
			"Start a session first with POST "+APIPrefix+"delphix/session.")
	}
	id, hash, err := e.store.User(r.Context(), body.Username)
	if err != nil {
		hash = dummyHash
	}
	if !checkPassword(hash, body.Password) || err != nil {
		e.cfg.Log.Warn("login failed", "user", body.Username, "remote", r.RemoteAddr)
		return apiErr(http.StatusUnauthorized, "exception.webservices.login.failed", "Invalid username or password.", "Try with a different set of credentials.")
	}
	userRef := fmt.Sprintf("USER-%d", id)
	s := e.sessions.login(q.session, body.Username, userRef)
	e.setSessionCookie(w, r, s)
	writeOK(w, userRef, nil, nil)
	return nil
}

func (e *Engine) handleLogout(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	e.sessions.remove(q.session.id)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/resources", HttpOnly: true, MaxAge: -1})
	writeOK(w, "", nil, nil)
	return nil
}

// ---- toolkits ----

// fileUploadResult answers requestUploadToken.
type fileUploadResult struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (e *Engine) handleRequestUploadToken(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
	tok := e.uploads.issue(q.session.id, "")
	writeOK(w, fileUploadResult{Type: "FileUploadResult", URL: APIPrefix + "delphix/data/upload", Token: tok}, nil, nil)
	return nil
}

func (e *Engine) handleToolkits(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	rows, err := e.store.Toolkits(r.Context())
	if err != nil {
		return internalErr(err)
	}
	items := make([]any, 0, len(rows))
	for _, t := range rows {
		obj, err := toolkitObject(t)
		if err != nil {
			return internalErr(err)
		}
		items = append(items, obj)
	}
	writeList(w, items)
	return nil
}

func (e *Engine) handleToolkit(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	t, err := e.store.ToolkitByRef(r.Context(), r.PathValue("ref"))
	if err != nil {
		return internalErr(err)
	}
	if t == nil {
		return toolkitNotFound(r.PathValue("ref"))
	}
	obj, err := toolkitObject(t)
	if err != nil {
		return internalErr(err)
	}
	writeOK(w, obj, nil, nil)
	return nil
}

func toolkitNotFound(ref string) *APIError {
	return apiErr(http.StatusNotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The plugin %q does not exist on this engine.", ref),
		"List the installed plugins with GET "+APIPrefix+"delphix/toolkit.")
}

func (e *Engine) handleToolkitDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
	t, err := e.store.ToolkitByRef(r.Context(), r.PathValue("ref"))
	if err != nil {
		return internalErr(err)
	}
	if t == nil {
		return toolkitNotFound(r.PathValue("ref"))
	}
	if err := e.store.DeleteToolkit(r.Context(), t); err != nil {
		return internalErr(err)
	}
	now := store.FormatTime(e.cfg.Clock())
	a := &store.Action{ActionType: "TOOLKIT_DELETE", Title: fmt.Sprintf("Delete plugin %q", t.Name),
		Details: fmt.Sprintf("Deleted plugin %q (%s, build %s).", t.Name, t.PluginID, t.BuildNumber),
		State:   "COMPLETED", UserRef: q.session.userRef, StartTime: now}
	a.EndTime.String, a.EndTime.Valid = now, true
	if err := e.store.InsertAction(r.Context(), a); err != nil {
		return internalErr(err)
	}
	e.pluginLog(t.PluginID, "%s deleted by %s (build %s); %s", t.Ref(), q.session.user, t.BuildNumber, a.Ref())
	writeOK(w, "", nil, strp(a.Ref()))
	return nil
}

// toolkitObject renders an installed plugin as a Toolkit object (reference
// 7.6). sourceCode is left out: it can be hundreds of megabytes; its size
// and hash are given instead.
func toolkitObject(t *store.Toolkit) (*orderedMap, error) {
	a, err := t.Artifact()
	if err != nil {
		return nil, err
	}
	var version, luaName, minLua any
	if a.ExternalVersion != "" {
		version = a.ExternalVersion
	}
	if a.LuaName != "" {
		luaName = a.LuaName
	}
	if a.MinimumLuaVersion != "" {
		minLua = a.MinimumLuaVersion
	}
	return orderedObject(
		"type", "Toolkit",
		"reference", t.Ref(),
		"namespace", nil,
		"name", a.Name,
		"prettyName", a.Name,
		"identifier", a.PluginID,
		"language", a.Language,
		"version", version,
		"buildNumber", a.BuildNumber,
		"buildApi", a.BuildAPI,
		"engineApi", a.EngineAPI,
		"hostTypes", a.HostTypes,
		"rootSquashEnabled", a.RootSquashEnabled,
		"entryPoint", a.EntryPoint,
		"defaultLocale", a.DefaultLocale,
		"virtualSourceDefinition", a.VirtualSourceDefinition,
		"linkedSourceDefinition", a.LinkedSourceDefinition,
		"discoveryDefinition", a.DiscoveryDefinition,
		"snapshotSchema", a.SnapshotSchema,
		"snapshotParametersDefinition", a.SnapshotParametersDefinition,
		"upgradeDefinition", map[string]any{"type": "ToolkitUpgradeDefinition", "migrationIdList": nonNil(a.Manifest.MigrationIDList)},
		"manifest", a.Manifest,
		"extendedStartStopHooks", a.ExtendedStartStopHooks,
		"luaName", luaName,
		"minimumLuaVersion", minLua,
		"sourceCodeSha256", t.SourceSHA256,
		"sourceCodeSize", t.SourceSize,
		"artifactSha256", t.ArtifactSHA256,
		"installedTime", t.Installed,
		"updatedTime", t.Updated,
	), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// orderedMap is a JSON object that keeps its keys in the given order.
type orderedMap struct {
	keys []string
	vals []any
}

func orderedObject(kv ...any) *orderedMap {
	om := &orderedMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		om.keys = append(om.keys, kv[i].(string))
		om.vals = append(om.vals, kv[i+1])
	}
	return om
}

func (o *orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalNoEscape(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
