//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoginLogIsBounded: anyone who reaches the engine can send failed
// logins, and each one is logged with its user name; a user name of a
// megabyte made the engine write a megabyte to its stderr (often a file)
// per request, without a password. The name logged is cut.
func TestLoginLogIsBounded(t *testing.T) {
	e := startEngine(t, t.TempDir())
	before := len(e.out.String())
	long := strings.Repeat("u", 1<<20-200)
	body, _ := json.Marshal(map[string]string{"type": "LoginRequest", "username": long, "password": "wrong-password"})
	for range 20 {
		a := &api{t: t, base: e.url}
		a.post("delphix/session", pySession)
		if code, b := a.post("delphix/login", string(body)); code != 401 && code != 429 {
			t.Fatalf("login with a long user name: %d %.300s", code, b)
		}
	}
	out := e.out.String()[before:]
	if !strings.Contains(out, "login") {
		t.Fatalf("the failed logins were not logged:\n%.2000s", out)
	}
	if len(out) > 20*1024 {
		t.Errorf("20 failed logins wrote %d bytes to the engine's output", len(out))
	}
}
