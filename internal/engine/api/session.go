package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/guard"
	"github.com/dvpkit/dvp/internal/engineapi"
)

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

func (srv *Server) handleSession(w http.ResponseWriter, r *http.Request, q *request) *APIError {
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
		major != artifact.EngineAPIVersion.Major || artifact.EngineAPIVersion.Less(versionOf(major, minor, micro)) {
		// As the Delphix Engine does, an unsupported version is an ErrorResult
		// with HTTP 200 (docs/engine.md, "Endpoints").
		return apiErr(http.StatusOK, "exception.webservices.session.invalid.version",
			fmt.Sprintf("Invalid API version %q.", shown),
			"Change the API version to one supported by your version of the Delphix Engine. Review the Release Notes for your Delphix Engine version to determine which API version is supported.")
	}
	s := q.session
	if s == nil {
		s = srv.sessions.create()
		srv.setSessionCookie(w, r, s)
	}
	writeOK(w, apiSession{Type: "APISession", Version: versionOf(major, minor, micro)}, nil, nil)
	return nil
}

func versionOf(major, minor, micro int) artifact.APIVersion {
	return artifact.APIVersion{Type: artifact.TypeAPIVersion, Major: major, Minor: minor, Micro: micro}
}

// maxLoggedUser bounds the user name a failed login logs: anyone who
// reaches the engine can send a megabyte of it in every login, and the
// engine's log (its stderr, often a file) would grow by as much.
const maxLoggedUser = 64

type loginBody struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (srv *Server) handleLogin(w http.ResponseWriter, r *http.Request, q *request) *APIError {
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
			"Log in again: every dvp command starts a session, then logs in (a client of the API starts a session first).")
	}
	// Failed logins slow down per client and per user; the password checks
	// (bcrypt) that run at once are bounded (guard.Throttle).
	attempt, refused := srv.cfg.Throttle.Begin(r.Context(), guard.ClientKey(r), body.Username)
	if refused != nil {
		srv.busy.warn(srv.cfg.Log, "login refused", "login refused", "user", shorten(body.Username, maxLoggedUser), "remote", r.RemoteAddr, "why", refused.Details)
		guard.SetRetryAfter(w, refused)
		return apiErr(refused.Status, refused.ID, refused.Details, refused.Action)
	}
	userRef, ok := srv.core.Login(r.Context(), body.Username, body.Password)
	attempt.Done(ok)
	if !ok {
		srv.busy.warn(srv.cfg.Log, "login failed", "login failed", "user", shorten(body.Username, maxLoggedUser), "remote", r.RemoteAddr)
		return apiErr(http.StatusUnauthorized, "exception.webservices.login.failed", "Invalid username or password.", "Try with a different set of credentials.")
	}
	s := srv.sessions.login(q.session, body.Username, userRef)
	srv.setSessionCookie(w, r, s)
	writeOK(w, userRef, nil, nil)
	return nil
}

func (srv *Server) handleLogout(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	srv.sessions.remove(q.session.id)
	http.SetCookie(w, &http.Cookie{Name: engineapi.SessionCookie, Value: "", Path: "/resources", HttpOnly: true, MaxAge: -1})
	writeOK(w, "", nil, nil)
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// session is an API session: created by delphix/session, logged in by
// delphix/login, ended by delphix/logout or after an idle timeout.
type session struct {
	id       string
	user     string
	userRef  string
	lastUsed time.Time
}

func (s *session) loggedIn() bool { return s.user != "" }

// key tells the session from others without its id, which is its secret:
// a hash of the id.
func (s *session) key() string {
	sum := sha256.Sum256([]byte(s.id))
	return hex.EncodeToString(sum[:8])
}

// maxAnonymousSessions bounds the sessions not logged in that the engine
// holds. Anyone who reaches the engine can start a session without a
// password, so without a bound a client that starts sessions in a loop
// grows the engine's memory until the idle timeout, tens of millions of
// them; at the bound, a new session ends the oldest one not logged in (a
// client logs in right after starting its session).
const maxAnonymousSessions = 4096

// sessions holds the live sessions, in memory: a restart logs everyone out,
// as an engine restart does.
type sessions struct {
	mu    sync.Mutex
	byID  map[string]*session
	idle  time.Duration
	clock func() time.Time
	// anonymous lists the ids of the sessions started and not yet logged
	// in, oldest first; ids of sessions that have since logged in, ended
	// or expired are skipped (and compacted away).
	anonymous []string
	nAnon     int // live sessions not logged in
	maxAnon   int
}

func newSessions(idle time.Duration, clock func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, clock: clock, maxAnon: maxAnonymousSessions}
}

func (ss *sessions) create() *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ss.nAnon >= ss.maxAnon && len(ss.anonymous) > 0 {
		id := ss.anonymous[0]
		ss.anonymous = ss.anonymous[1:]
		if s := ss.byID[id]; s != nil && !s.loggedIn() {
			ss.drop(id)
		}
	}
	if len(ss.anonymous) > 2*ss.maxAnon {
		live := ss.anonymous[:0]
		for _, id := range ss.anonymous {
			if s := ss.byID[id]; s != nil && !s.loggedIn() {
				live = append(live, id)
			}
		}
		ss.anonymous = slices.Clip(live)
	}
	s := &session{id: randomID(24), lastUsed: ss.clock()}
	ss.byID[s.id] = s
	ss.anonymous = append(ss.anonymous, s.id)
	ss.nAnon++
	return s
}

// drop forgets a session (ss.mu held).
func (ss *sessions) drop(id string) {
	if s := ss.byID[id]; s != nil {
		if !s.loggedIn() {
			ss.nAnon--
		}
		delete(ss.byID, id)
	}
}

// get returns the live session with the id and marks it used; nil when
// there is none or it expired.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	if s == nil {
		return nil
	}
	now := ss.clock()
	if now.Sub(s.lastUsed) > ss.idle {
		ss.drop(id)
		return nil
	}
	s.lastUsed = now
	return s
}

// loggedIn reports whether id is a live, logged-in session.
func (ss *sessions) loggedIn(id string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	return s != nil && s.loggedIn() && ss.clock().Sub(s.lastUsed) <= ss.idle
}

// login replaces the session by a fresh logged-in one (a new id, so a
// session id seen before login is worthless after it).
func (ss *sessions) login(old *session, user, userRef string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if old != nil {
		ss.drop(old.id)
	}
	s := &session{id: randomID(24), user: user, userRef: userRef, lastUsed: ss.clock()}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.drop(id)
}

func (ss *sessions) sweep() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.clock()
	for id, s := range ss.byID {
		if now.Sub(s.lastUsed) > ss.idle {
			ss.drop(id)
		}
	}
}
