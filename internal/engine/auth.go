package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// AdminUser is the engine's one user.
const AdminUser = "admin"

// Password hashes are bcrypt over the base64 of the password's SHA-256, so
// that passwords longer than bcrypt's 72 bytes are not truncated.
const hashPrefix = "bcrypt-sha256$"

func preHash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func hashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword(preHash(password), cost)
	if err != nil {
		return "", err
	}
	return hashPrefix + string(h), nil
}

// dummyHash is compared against when the user does not exist, so that a
// wrong user name costs as much time as a wrong password.
var dummyHash, _ = hashPassword("not a password", bcrypt.MinCost)

func checkPassword(stored, password string) bool {
	h, ok := strings.CutPrefix(stored, hashPrefix)
	if !ok {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(h), preHash(password)) == nil
}

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alikes (about 100 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // 256 % 56 bias is negligible here
	}
	return string(b)
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

// sessions holds the live sessions, in memory: a restart logs everyone out,
// as an engine restart does.
type sessions struct {
	mu    sync.Mutex
	byID  map[string]*session
	idle  time.Duration
	clock func() time.Time
}

func newSessions(idle time.Duration, clock func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, clock: clock}
}

func (ss *sessions) create() *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := &session{id: randomID(24), lastUsed: ss.clock()}
	ss.byID[s.id] = s
	return s
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
		delete(ss.byID, id)
		return nil
	}
	s.lastUsed = now
	return s
}

// login replaces the session by a fresh logged-in one (a new id, so a
// session id seen before login is worthless after it).
func (ss *sessions) login(old *session, user, userRef string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if old != nil {
		delete(ss.byID, old.id)
	}
	s := &session{id: randomID(24), user: user, userRef: userRef, lastUsed: ss.clock()}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

func (ss *sessions) sweep() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.clock()
	for id, s := range ss.byID {
		if now.Sub(s.lastUsed) > ss.idle {
			delete(ss.byID, id)
		}
	}
}

// tokens are single-use, expiring tokens bound to a session: upload tokens
// and download tokens. Spent and expired tokens are remembered for a while
// so that the error says what happened.
type tokens struct {
	mu    sync.Mutex
	ttl   time.Duration
	clock func() time.Time
	byID  map[string]*token
}

type token struct {
	session string
	expires time.Time
	used    bool
	payload string // for download tokens: the file to send
}

func newTokens(ttl time.Duration, clock func() time.Time) *tokens {
	return &tokens{ttl: ttl, clock: clock, byID: map[string]*token{}}
}

func (ts *tokens) issue(sessionID, payload string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	id := newUUID()
	ts.byID[id] = &token{session: sessionID, expires: ts.clock().Add(ts.ttl), payload: payload}
	return id
}

// Errors of tokens.consume.
var (
	errTokenUnknown  = errors.New("was not issued by this engine")
	errTokenUsed     = errors.New("was already used (tokens are single-use; request a new one)")
	errTokenExpired  = errors.New("has expired (request a new one and use it at once)")
	errTokenNotYours = errors.New("belongs to another session")
)

// consume spends a token: it returns its payload, or why it cannot be used.
func (ts *tokens) consume(id, sessionID string) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var t *token
	for k, v := range ts.byID {
		if subtle.ConstantTimeCompare([]byte(k), []byte(id)) == 1 {
			t = v
		}
	}
	switch {
	case t == nil:
		return "", errTokenUnknown
	case t.used:
		return "", errTokenUsed
	case ts.clock().After(t.expires):
		return "", errTokenExpired
	case t.session != sessionID:
		return "", errTokenNotYours
	}
	t.used = true
	return t.payload, nil
}

// sweep forgets tokens that expired long ago and returns the payloads of
// the ones that were never used (for download tokens: files to remove).
func (ts *tokens) sweep() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.clock()
	var unused []string
	for id, t := range ts.byID {
		if now.After(t.expires) && !t.used && t.payload != "" {
			unused = append(unused, t.payload)
			t.payload = ""
		}
		if now.After(t.expires.Add(ts.ttl + time.Hour)) {
			delete(ts.byID, id)
		}
	}
	return unused
}
