package api

import (
	"testing"
	"time"
)

// TestAnonymousSessionsBounded: starting sessions needs no password, so a
// client that starts them in a loop must not grow the engine's memory. At
// the bound the oldest session not logged in ends; logged-in sessions are
// never ended for it.
func TestAnonymousSessionsBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	ss := newSessions(time.Hour, func() time.Time { return now })
	ss.maxAnon = 10
	first := ss.create()
	in := ss.login(ss.create(), "admin", "USER-1")
	var last *session
	for range 1000 {
		last = ss.create()
	}
	if n := len(ss.byID); n != 11 {
		t.Errorf("%d sessions held after 1002 were started (at most 10 not logged in + 1 logged in)", n)
	}
	if ss.get(first.id) != nil {
		t.Error("the oldest session not logged in outlived the bound")
	}
	if ss.get(last.id) == nil || !ss.loggedIn(in.id) {
		t.Error("the newest session or the logged-in one was ended")
	}
	if len(ss.anonymous) > 2*ss.maxAnon+1 {
		t.Errorf("the queue of anonymous sessions holds %d ids", len(ss.anonymous))
	}
	// Sessions that log in, log out or expire leave the count (the first
	// start below ends one more old session: 9 are left).
	for range 100 {
		s := ss.login(ss.create(), "admin", "USER-1")
		ss.remove(s.id)
	}
	if ss.nAnon != 9 || len(ss.anonymous) > 2*ss.maxAnon+1 {
		t.Errorf("%d sessions counted as not logged in, %d queued", ss.nAnon, len(ss.anonymous))
	}
	now = now.Add(2 * time.Hour)
	ss.sweep()
	if ss.nAnon != 0 || len(ss.byID) != 0 {
		t.Errorf("after the idle timeout: %d sessions, %d counted not logged in", len(ss.byID), ss.nAnon)
	}
}
