package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// tokens are single-use, expiring tokens bound to a session: upload tokens
// and download tokens. Spent and expired tokens are remembered for a while
// so that the error says what happened.
//
// They are found by the SHA-256 of their id (tokenKey): a lookup costs the
// same however many tokens are remembered (there are thousands under
// load), and the time it takes says nothing about how close a guess came
// to a real token.
//
// What a client can make the engine hold is bounded (docs/engine.md,
// "Users, sessions, tokens"): a session holds at most perSession tokens
// that are neither spent nor expired, and the engine remembers at most
// maxHeld tokens in all (spent and expired ones are forgotten first when
// it needs room). A download token's payload is a file, so these bounds
// also bound the bundles waiting on disk.
type tokens struct {
	mu         sync.Mutex
	kind       string // "upload" or "download", for refusals
	ttl        time.Duration
	clock      func() time.Time
	byID       map[[sha256.Size]byte]*token
	bySession  map[string][][sha256.Size]byte // keys of the tokens each session was issued, not yet known spent
	perSession int
	maxHeld    int
}

// Bounds of the tokens (docs/engine.md, "Users, sessions, tokens").
const (
	// maxUploadTokensPerSession: dvp asks for one token per upload and
	// spends it at once.
	maxUploadTokensPerSession = 32
	// maxUploadTokens bounds the upload tokens remembered, spent ones
	// included (a few MiB of memory).
	maxUploadTokens = 32768
	// maxDownloadTokensPerSession: each unspent download token holds a
	// generated bundle (a file of up to the plugin's whole log directory).
	maxDownloadTokensPerSession = 4
	// maxDownloadTokens bounds the bundles waiting for a download: a
	// plugin's logs are at most 240 MiB (4 files x 6 x 10 MiB), which
	// random text keeps in a bundle, so at most about 4 GiB of disk.
	maxDownloadTokens = 16
)

func tokenKey(id string) [sha256.Size]byte { return sha256.Sum256([]byte(id)) }

type token struct {
	session string
	expires time.Time
	used    bool
	payload string // for download tokens: the file to send
}

func newTokens(kind string, ttl time.Duration, clock func() time.Time, perSession, maxHeld int) *tokens {
	return &tokens{kind: kind, ttl: ttl, clock: clock, byID: map[[sha256.Size]byte]*token{},
		bySession: map[string][][sha256.Size]byte{}, perSession: perSession, maxHeld: maxHeld}
}

// live tells whether t can still be spent (ts.mu held).
func (ts *tokens) live(t *token, now time.Time) bool {
	return t != nil && !t.used && !now.After(t.expires)
}

// pending returns the session's tokens that can still be spent, dropping
// the others from its list (ts.mu held).
func (ts *tokens) pending(sessionID string, now time.Time) int {
	keys := ts.bySession[sessionID]
	kept := keys[:0]
	for _, k := range keys {
		if ts.live(ts.byID[k], now) {
			kept = append(kept, k)
		}
	}
	if len(kept) == 0 {
		delete(ts.bySession, sessionID)
	} else {
		ts.bySession[sessionID] = kept
	}
	return len(kept)
}

// room says why the session cannot be issued one more token now, or nil
// (ts.mu held). When the engine holds maxHeld tokens it first forgets the
// spent and expired ones (their refusal then says "not issued").
func (ts *tokens) room(sessionID string, now time.Time) *APIError {
	if ts.pending(sessionID, now) >= ts.perSession {
		return apiErr(http.StatusTooManyRequests, "exception.webservices."+ts.kind+".tokens.exhausted",
			fmt.Sprintf("This session already holds %d %s tokens that are neither used nor expired, the most one session may hold.", ts.perSession, ts.kind),
			fmt.Sprintf("Use the %s tokens this session was given, or wait until they expire (%s), or start a new session: dvp asks for one token per %s and uses it at once.", ts.kind, ts.ttl, ts.kind))
	}
	if len(ts.byID) >= ts.maxHeld {
		for k, t := range ts.byID {
			if !ts.live(t, now) && t.payload == "" {
				delete(ts.byID, k)
			}
		}
	}
	if len(ts.byID) >= ts.maxHeld {
		return apiErr(http.StatusServiceUnavailable, "exception.webservices."+ts.kind+".tokens.busy",
			fmt.Sprintf("The engine holds %d %s tokens that are neither used nor expired, the most it holds at once.", ts.maxHeld, ts.kind),
			fmt.Sprintf("Try again once some are used or expire (%s).", ts.ttl))
	}
	return nil
}

// check says why issue would refuse the session a token now, or nil: a
// caller that must prepare the token's payload first (a bundle) asks
// before it does the work.
func (ts *tokens) check(sessionID string) *APIError {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.room(sessionID, ts.clock())
}

// issue returns a new token of the session, or why it holds too many.
func (ts *tokens) issue(sessionID, payload string) (string, *APIError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.clock()
	if err := ts.room(sessionID, now); err != nil {
		return "", err
	}
	id := newUUID()
	k := tokenKey(id)
	ts.byID[k] = &token{session: sessionID, expires: now.Add(ts.ttl), payload: payload}
	ts.bySession[sessionID] = append(ts.bySession[sessionID], k)
	return id, nil
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
	t := ts.byID[tokenKey(id)]
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
	p := t.payload
	t.payload = ""
	return p, nil
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
	for s := range ts.bySession {
		ts.pending(s, now)
	}
	return unused
}
