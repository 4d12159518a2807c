package guard

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// login runs one attempt: the password check succeeds when ok.
func login(t *testing.T, th *Throttle, addr, user string, ok bool) *Refusal {
	t.Helper()
	a, f := th.Begin(context.Background(), addr, user)
	if f != nil {
		return f
	}
	a.Done(ok)
	return nil
}

func TestThrottleEngagesAndReleases(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleConfig{Clock: c.now, FreeFailures: 3, BackoffBase: time.Second, BackoffMax: 8 * time.Second})
	// Three free failures.
	for i := range 3 {
		if f := login(t, th, "127.0.0.1", "admin", false); f != nil {
			t.Fatalf("failure %d refused: %+v", i+1, f)
		}
	}
	// Then waits of 1, 2, 4, 8, 8 s: during the wait even the right
	// password is refused with 429 and Retry-After, without a check.
	for i, wait := range []time.Duration{1, 2, 4, 8, 8} {
		wait *= time.Second
		f := login(t, th, "127.0.0.1", "admin", true)
		if f == nil || f.Status != 429 || f.ID != "exception.webservices.login.throttled" || f.RetryAfter != int(wait/time.Second) {
			t.Fatalf("step %d: %+v", i, f)
		}
		if !strings.Contains(f.Details, "from the address 127.0.0.1") || !strings.Contains(f.Action, "Wait") {
			t.Errorf("step %d: %+v", i, f)
		}
		c.advance(wait - time.Millisecond)
		if f := login(t, th, "127.0.0.1", "admin", true); f == nil || f.RetryAfter != 1 {
			t.Fatalf("step %d: let through before the wait passed: %+v", i, f)
		}
		c.advance(time.Millisecond)
		if f := login(t, th, "127.0.0.1", "admin", false); f != nil {
			t.Fatalf("step %d: refused once the wait passed: %+v", i, f)
		}
	}
	// Per user, from another address too.
	if f := login(t, th, "10.0.0.9", "admin", true); f == nil || !strings.Contains(f.Details, `for the user "admin"`) {
		t.Errorf("another address, same user: %+v", f)
	}
	// Per address, for another user too.
	if f := login(t, th, "127.0.0.1", "bob", true); f == nil {
		t.Error("same address, another user: let through")
	}
	// Once the wait has passed, the right password gets through and
	// forgets the failures.
	c.advance(8 * time.Second)
	if f := login(t, th, "127.0.0.1", "admin", true); f != nil {
		t.Fatalf("the right password after the wait: %+v", f)
	}
	for i := range 3 {
		if f := login(t, th, "127.0.0.1", "admin", false); f != nil {
			t.Fatalf("after a success, failure %d refused: %+v", i+1, f)
		}
	}
}

func TestThrottleForgets(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleConfig{Clock: c.now, FreeFailures: 1, Forget: time.Hour})
	login(t, th, "a", "u", false)
	if login(t, th, "a", "u", false) == nil {
		t.Fatal("not throttled")
	}
	c.advance(time.Hour + time.Second)
	if f := login(t, th, "a", "u", false); f != nil {
		t.Fatalf("not forgotten: %+v", f)
	}
}

func TestThrottleOneCheckAtATimeAfterFailures(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleConfig{Clock: c.now, FreeFailures: 5, MaxChecks: 10})
	// Without failures, logins run side by side (many clients at once).
	var held []*Attempt
	for range 10 {
		a, f := th.Begin(context.Background(), "127.0.0.1", "admin")
		if f != nil {
			t.Fatalf("%+v", f)
		}
		held = append(held, a)
	}
	for _, a := range held {
		a.Done(true)
	}
	login(t, th, "127.0.0.1", "admin", false)
	a, f := th.Begin(context.Background(), "127.0.0.1", "admin")
	if f != nil {
		t.Fatal(f)
	}
	if f := login(t, th, "127.0.0.1", "admin", false); f == nil || f.Status != 429 || !strings.Contains(f.Details, "one at a time") {
		t.Errorf("a second attempt beside one being checked: %+v", f)
	}
	a.Done(false)
	if f := login(t, th, "127.0.0.1", "admin", true); f != nil {
		t.Errorf("%+v", f)
	}
}

func TestThrottleBoundsChecks(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxChecks: 2})
	a1, _ := th.Begin(context.Background(), "a1", "u1")
	a2, _ := th.Begin(context.Background(), "a2", "u2")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, f := th.Begin(ctx, "a3", "u3"); f == nil || f.Status != 503 {
		t.Errorf("a third check ran: %+v", f)
	}
	a1.Done(true)
	a3, f := th.Begin(context.Background(), "a3", "u3")
	if f != nil {
		t.Fatal(f)
	}
	a2.Done(true)
	a3.Done(true)
	a3.Done(true) // twice is harmless
	if len(th.checks) != 0 || len(th.addrs) != 0 || len(th.users) != 0 {
		t.Errorf("left behind: %d checks, %v, %v", len(th.checks), th.addrs, th.users)
	}
}

func TestThrottleKeysBounded(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxKeys: 10, FreeFailures: 10000})
	for i := range 1000 {
		login(t, th, "127.0.0.1", strings.Repeat("u", i%50+1)+string(rune('a'+i%26)), false)
	}
	if len(th.users) > 10 {
		t.Errorf("%d user names remembered", len(th.users))
	}
	if th.addrs["127.0.0.1"] == nil || th.addrs["127.0.0.1"].count != 1000 {
		t.Errorf("the address's failures were lost: %+v", th.addrs["127.0.0.1"])
	}
}
