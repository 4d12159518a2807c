package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Defaults of ThrottleConfig.
const (
	DefaultFreeFailures = 3
	DefaultBackoffBase  = time.Second
	DefaultBackoffMax   = time.Minute
	DefaultForget       = 15 * time.Minute
	DefaultMaxKeys      = 4096
	DefaultKnownFor     = 30 * 24 * time.Hour
)

// ThrottleConfig configures login throttling.
type ThrottleConfig struct {
	// FreeFailures is how many failed logins in a row a client (ClientKey)
	// or a user name has before each further failure makes it wait:
	// BackoffBase after the FreeFailures-th, then twice as long after each
	// further one, at most BackoffMax.
	FreeFailures int
	BackoffBase  time.Duration
	BackoffMax   time.Duration
	// Forget is how long after its last failure a key starts afresh.
	Forget time.Duration
	// MaxChecks bounds the password checks (bcrypt) running at once; 0:
	// the number of CPUs.
	MaxChecks int
	// MaxKeys bounds the clients, the user names and the known clients
	// remembered (each).
	MaxKeys int
	// KnownFor is how long a client that logged in as a user stays known
	// for that user (exempt from the user's own wait).
	KnownFor time.Duration
	// Clock is the time source (tests inject one); nil: time.Now.
	Clock func() time.Time
}

// Throttle slows down failed logins per client (ClientKey: the user ID
// owning a connection from this machine, else the address) and per user
// name, and bounds the password checks that run at once (each is a
// bcrypt, an expensive computation a client could otherwise make the
// engine do at will).
//
// A key (a client or a user name) with failures in its history has at
// most one login being checked at a time, and after FreeFailures failures
// it must wait out its backoff; meanwhile its logins get 429 with
// Retry-After, without a password check. A successful login forgets the
// failures of its client and makes the client known for that user: the
// user name's failures, which any client can cause, then no longer hold
// it back (only its own do). A client on this machine known by its user
// ID is never held back by the user name's failures, nor counts in them:
// it cannot spread its guesses over many keys (and a known client's
// failures count as its own only). So failing logins as admin
// from elsewhere does not lock out the admin's dvp, while guesses spread
// over many unknown addresses still meet the user's wait.
type Throttle struct {
	cfg    ThrottleConfig
	checks chan struct{}
	mu     sync.Mutex
	addrs  map[string]*failures
	users  map[string]*failures
	known  map[string]time.Time // client + "\x00" + user key: its last login
}

type failures struct {
	count    int
	last     time.Time // of the last failure
	until    time.Time // no login before
	inflight int
}

// NewThrottle returns a throttle.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.FreeFailures <= 0 {
		cfg.FreeFailures = DefaultFreeFailures
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.Forget <= 0 {
		cfg.Forget = DefaultForget
	}
	if cfg.MaxChecks <= 0 {
		cfg.MaxChecks = runtime.NumCPU()
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.KnownFor <= 0 {
		cfg.KnownFor = DefaultKnownFor
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Throttle{cfg: cfg, checks: make(chan struct{}, cfg.MaxChecks),
		addrs: map[string]*failures{}, users: map[string]*failures{}, known: map[string]time.Time{}}
}

// maxUserKey bounds a user name remembered as itself; a longer one (a
// client sends any name, up to the 1 MiB of a request body, and the
// throttle keeps it for Forget) is remembered by its digest.
const maxUserKey = 128

// maxShownUser bounds the part of a user name a refusal quotes.
const maxShownUser = 64

// userKey is the key of a user name in the throttle: the name itself, or
// for a name over maxUserKey bytes, its SHA-256 (a name cannot collide
// with it: it would have to hold a NUL and the digest of another).
func userKey(user string) string {
	if len(user) <= maxUserKey {
		return user
	}
	sum := sha256.Sum256([]byte(user))
	return "\x00sha256:" + hex.EncodeToString(sum[:])
}

// Attempt is a login let through: call Done with its outcome.
type Attempt struct {
	t          *Throttle
	addr, user string
	// known: the client is known for the user (or a local user ID); the
	// user's failures neither hold it back nor count its own.
	known bool
	once  sync.Once
}

// ClientAddress is the address part of a request's RemoteAddr.
func ClientAddress(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// Begin lets a login of user from addr (a ClientKey) be checked, once a
// check slot is free, or refuses it: 429 while the client must wait, or
// the user and the client is not known for it; 503 when ctx ends before a
// check slot is free.
func (t *Throttle) Begin(ctx context.Context, addr, user string) (*Attempt, *Refusal) {
	shown := user
	if len(user) > maxShownUser {
		shown = strings.ToValidUTF8(user[:maxShownUser], "") + "..."
	}
	user = userKey(user)
	t.mu.Lock()
	now := t.cfg.Clock()
	local := strings.HasPrefix(addr, localUserPrefix)
	known := local || t.isKnown(addr, user, now)
	fa := t.entry(t.addrs, addr, now)
	if f := t.refusal(fa, describeClient(addr), now); f != nil {
		t.mu.Unlock()
		return nil, f
	}
	if !known {
		fu := t.entry(t.users, user, now)
		if f := t.refusal(fu, fmt.Sprintf("for the user %q (from clients that have not logged in as it)", shown), now); f != nil {
			t.mu.Unlock()
			return nil, f
		}
		fu.inflight++
	}
	fa.inflight++
	t.mu.Unlock()
	a := &Attempt{t: t, addr: addr, user: user, known: known}
	select {
	case t.checks <- struct{}{}:
		return a, nil
	case <-ctx.Done():
		t.finish(a, false, false)
		return nil, &Refusal{Status: http.StatusServiceUnavailable, ID: "exception.webservices.busy", RetryAfter: 1,
			Details: "The engine was checking other passwords until the request ended.", Action: "Try again in a moment."}
	}
}

func (t *Throttle) refusal(f *failures, what string, now time.Time) *Refusal {
	if f.count == 0 {
		return nil
	}
	wait := f.until.Sub(now)
	if wait <= 0 && f.inflight == 0 {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	details := fmt.Sprintf("Too many failed logins %s (%d in a row): the next one is accepted in %d s.", what, f.count, secs)
	if wait <= 0 {
		details = fmt.Sprintf("A login %s is being checked, after %d failed ones in a row: one at a time.", what, f.count)
	}
	return &Refusal{Status: http.StatusTooManyRequests, ID: "exception.webservices.login.throttled", RetryAfter: secs,
		Details: details,
		Action:  fmt.Sprintf("Wait %d s, then log in with the right password (each further failure doubles the wait, up to %s).", secs, t.cfg.BackoffMax)}
}

// knownKey is the key of a client known for a user.
func knownKey(addr, user string) string { return addr + "\x00" + user }

// isKnown says whether the client logged in as user within KnownFor.
func (t *Throttle) isKnown(addr, user string, now time.Time) bool {
	at, ok := t.known[knownKey(addr, user)]
	return ok && now.Sub(at) <= t.cfg.KnownFor
}

// remember makes the client known for user, forgetting the one that
// logged in the longest ago when MaxKeys are known.
func (t *Throttle) remember(addr, user string, now time.Time) {
	k := knownKey(addr, user)
	if _, ok := t.known[k]; !ok && len(t.known) >= t.cfg.MaxKeys {
		var oldest string
		var oldestAt time.Time
		for kk, at := range t.known {
			if oldest == "" || at.Before(oldestAt) {
				oldest, oldestAt = kk, at
			}
		}
		delete(t.known, oldest)
	}
	t.known[k] = now
}

// entry returns the failures of key, starting afresh after Forget.
func (t *Throttle) entry(m map[string]*failures, key string, now time.Time) *failures {
	f := m[key]
	if f != nil && f.inflight == 0 && f.count > 0 && now.Sub(f.last) > t.cfg.Forget {
		f.count, f.until = 0, time.Time{}
	}
	if f == nil {
		if len(m) >= t.cfg.MaxKeys {
			t.evict(m, now)
		}
		f = &failures{}
		m[key] = f
	}
	return f
}

// evict makes room in m: keys without failures or forgotten ones first,
// else the one whose last failure is the oldest.
func (t *Throttle) evict(m map[string]*failures, now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, f := range m {
		if f.inflight > 0 {
			continue
		}
		if f.count == 0 || now.Sub(f.last) > t.cfg.Forget {
			delete(m, k)
			continue
		}
		if oldest == "" || f.last.Before(oldestAt) {
			oldest, oldestAt = k, f.last
		}
	}
	if len(m) >= t.cfg.MaxKeys && oldest != "" {
		delete(m, oldest)
	}
}

// Done records the outcome of the attempt's password check: ok forgets
// the failures of its client and makes the client known for the user (the
// user's failures, which others may have caused, stay until forgotten);
// a failure counts for the client, and for the user when the client is
// not known for it.
func (a *Attempt) Done(ok bool) {
	a.once.Do(func() { a.t.finish(a, true, ok) })
}

func (t *Throttle) finish(a *Attempt, checked, ok bool) {
	if checked {
		<-t.checks
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Clock()
	if checked && ok {
		t.remember(a.addr, a.user, now)
	}
	for _, e := range []struct {
		m    map[string]*failures
		key  string
		user bool
	}{{t.addrs, a.addr, false}, {t.users, a.user, true}} {
		f := e.m[e.key]
		if f == nil || (e.user && a.known) {
			continue
		}
		f.inflight--
		switch {
		case !checked:
		case ok && e.user:
			// The right password says nothing of the other clients'
			// guesses: the user's failures stay until forgotten.
		case ok:
			f.count, f.until = 0, time.Time{}
		default:
			f.count++
			f.last = now
			if n := f.count - t.cfg.FreeFailures; n >= 0 {
				wait := t.cfg.BackoffMax
				if n < 30 && t.cfg.BackoffBase<<n < t.cfg.BackoffMax {
					wait = t.cfg.BackoffBase << n
				}
				f.until = now.Add(wait)
			}
		}
		if f.inflight == 0 && f.count == 0 {
			delete(e.m, e.key)
		}
	}
}
