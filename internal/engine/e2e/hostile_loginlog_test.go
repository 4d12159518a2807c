//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoginLogFloodIsBounded: anyone who reaches the engine can send
// logins, and each failed or throttled one was logged as a warning, on the
// engine's stderr (often a file) and in its debug log: 3,000 wrong logins
// from one client, answered 429 at once without a password check, wrote
// 3,000 lines (a client sends thousands a second, for as long as it
// pleases). Each kind is now logged at most once every 10 s, the next line
// saying how many were not logged.
func TestLoginLogFloodIsBounded(t *testing.T) {
	e := startEngine(t, t.TempDir())
	before := len(e.out.String())
	body, _ := json.Marshal(map[string]string{"type": "LoginRequest", "username": "admin", "password": "wrong-password"})
	a := &api{t: t, base: e.url}
	a.post("delphix/session", pySession)
	for i := range 3000 {
		if code, b := a.post("delphix/login", string(body)); code != 401 && code != 429 {
			t.Fatalf("wrong login %d: %d %.300s", i, code, b)
		}
	}
	out := e.out.String()[before:]
	if n := strings.Count(out, "login"); n == 0 || n > 20 {
		t.Errorf("3000 wrong logins logged %d lines about logins (want a few, at most one of each kind every 10 s):\n%.3000s", n, out)
	}
	// The admin still logs in (after the throttle's wait it would; here:
	// the engine answers).
	if code, _ := (&api{t: t, base: e.url}).post("delphix/session", pySession); code != 200 {
		t.Errorf("a new session after the flood: %d", code)
	}
}
