package engine

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestAttackerCannotLockOutTheAdmin: another user of the machine (curl run
// as nobody) fails logins as admin until the engine throttles it; the
// admin's client, which has never logged in to this engine, still logs in
// at once. Failed logins were counted per user name: anyone locked the
// admin out, for up to a minute after each failure.
func TestAttackerCannotLockOutTheAdmin(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if runtime.GOOS != "linux" || os.Getuid() != 0 || err != nil {
		t.Skip("needs Linux, root (to run curl as nobody) and curl")
	}
	te := startEngine(t, "")
	asNobody := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "-H", "Content-Type: application/json"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	base := te.srv.URL + "/resources/json/delphix/"
	throttled := false
	for i := 0; i < 8 && !throttled; i++ {
		// The session's cookie, from the headers curl prints.
		headers := asNobody("-D", "-", "-o", "/dev/null", "-d", `{"type":"APISession","version":{"type":"APIVersion","major":1,"minor":11,"micro":16}}`, base+"session")
		cookie := ""
		for _, l := range strings.Split(headers, "\n") {
			if v, ok := strings.CutPrefix(l, "Set-Cookie: "); ok {
				cookie, _, _ = strings.Cut(v, ";")
			}
		}
		if cookie == "" {
			t.Fatalf("no session cookie: %s", headers)
		}
		out := asNobody("-o", "/dev/null", "-w", "%{http_code}", "-H", "Cookie: "+cookie,
			"-d", `{"type":"LoginRequest","username":"admin","password":"wrong password"}`, base+"login")
		switch out {
		case "401":
		case "429":
			throttled = true
		default:
			t.Fatalf("failed login %d as nobody: HTTP %s", i+1, out)
		}
	}
	if !throttled {
		t.Fatal("8 failed logins as nobody: never throttled")
	}
	c := te.client(t)
	if env := c.login(testPassword); env.code != 200 || env.Type != "OKResult" {
		t.Fatalf("the admin's login after another user's failures: %d %+v", env.code, env.Error)
	}
	// The admin's own failures still count for the admin's client.
	for range 3 {
		te.client(t).login("wrong")
	}
	env := te.client(t).login("wrong")
	if env.code != 429 || !strings.Contains(env.Error.Details, fmt.Sprintf("user ID %d", os.Getuid())) {
		t.Errorf("the admin's client after 4 failures of its own: %d %+v", env.code, env.Error)
	}
}
