//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests hold the engine's front door (docs/engine.md, "The front
// door") through the real binary: raw HTTP requests shaped as a browser
// or an attacker sends them.

// rawAnswer is an answer to a raw request.
type rawAnswer struct {
	code   int
	header http.Header
	id     string
	msg    string
	cookie string
}

// raw sends one request over a new connection, byte for byte as given.
func raw(t *testing.T, addr, method, path string, headers []string, body string) rawAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang only
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\n", method, path)
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&req, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	io.WriteString(conn, req.String())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Error struct{ ID, Details, Action string }
	}
	json.Unmarshal(b, &env)
	return rawAnswer{code: resp.StatusCode, header: resp.Header, id: env.Error.ID, msg: env.Error.Details + "\n" + env.Error.Action, cookie: resp.Header.Get("Set-Cookie")}
}

const pySession = `{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}`

func pyLogin(password string) string {
	b, _ := json.Marshal(password)
	return `{"type": "LoginRequest", "username": "admin", "password": ` + string(b) + `}`
}

func TestFrontDoorRefusesBrowsersAndRebinding(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--hostname", "dev.example.test")
	addr := strings.TrimPrefix(e.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	session := "/resources/json/delphix/session"
	login := "/resources/json/delphix/login"
	json := "Content-Type: application/json"

	// DNS rebinding: the page's own name reaches 127.0.0.1.
	a := raw(t, addr, "POST", session, []string{"Host: evil.attacker.example:" + port, json}, pySession)
	if a.code != 403 || a.id != "exception.webservices.host.refused" || !strings.Contains(a.msg, "evil.attacker.example") || a.cookie != "" {
		t.Errorf("rebinding: %+v", a)
	}
	// A browser-shaped cross-site POST (a form or fetch without preflight).
	a = raw(t, addr, "POST", login, []string{"Host: " + addr, "Origin: http://evil.example", "Content-Type: text/plain;charset=UTF-8",
		"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors", "User-Agent: Mozilla/5.0"}, pyLogin(adminPassword))
	if a.code != 403 || a.id != "exception.webservices.origin.refused" || !strings.Contains(a.msg, "http://evil.example") {
		t.Errorf("cross-site POST: %+v", a)
	}
	// A text/plain login, even from no web page, with a session.
	s := raw(t, addr, "POST", session, []string{"Host: " + addr, json}, pySession)
	cookie := strings.SplitN(s.cookie, ";", 2)[0]
	if s.code != 200 || cookie == "" {
		t.Fatalf("session: %+v", s)
	}
	a = raw(t, addr, "POST", login, []string{"Host: " + addr, "Cookie: " + cookie, "Content-Type: text/plain"}, pyLogin(adminPassword))
	if a.code != 415 || a.id != "exception.webservices.unsupported.media.type" || !strings.Contains(a.msg, "application/json") {
		t.Errorf("text/plain login: %+v", a)
	}
	// The engine's own names get through: loopback, localhost, --hostname,
	// and its own origin.
	for _, h := range []string{"Host: " + addr, "Host: localhost:" + port, "Host: dev.example.test:" + port} {
		if a := raw(t, addr, "POST", session, []string{h, json, "Origin: http://" + strings.TrimPrefix(h, "Host: ")}, pySession); a.code != 200 {
			t.Errorf("%s: %+v", h, a)
		}
	}
	// dvp itself still works.
	if res := dvp(t, nil, "environment", "list", "-e", e.url, "-u", "admin"); res.code != 0 {
		t.Errorf("dvp environment list: %d\n%s", res.code, res.stderr)
	}
}

// TestLoginThrottle: wrong passwords make the engine wait (429 with
// Retry-After), even for the right one; once the wait has passed, the right
// password gets through. The test waits what Retry-After says and counts
// attempts; it asserts nothing about time.
func TestLoginThrottle(t *testing.T) {
	e := startEngine(t, t.TempDir())
	addr := strings.TrimPrefix(e.url, "http://")
	session := func() string {
		s := raw(t, addr, "POST", "/resources/json/delphix/session", []string{"Host: " + addr, "Content-Type: application/json"}, pySession)
		return strings.SplitN(s.cookie, ";", 2)[0]
	}
	try := func(password string) rawAnswer {
		return raw(t, addr, "POST", "/resources/json/delphix/login", []string{"Host: " + addr, "Content-Type: application/json", "Cookie: " + session()}, pyLogin(password))
	}
	// Wrong passwords until the engine throttles (3 are free).
	throttled := false
	for i := 0; i < 6 && !throttled; i++ {
		a := try("wrong password")
		switch a.code {
		case 401:
		case 429:
			throttled = true
		default:
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	if !throttled {
		t.Fatal("6 wrong passwords in a row, no 429")
	}
	// Now even the right password waits.
	a := try(adminPassword)
	if a.code != 429 || a.id != "exception.webservices.login.throttled" || a.header.Get("Retry-After") == "" {
		t.Fatalf("right password while throttled: %+v", a)
	}
	// dvp shows the engine's reason.
	res := dvp(t, nil, "environment", "list", "-e", e.url, "-u", "admin")
	if res.code != 1 || !strings.Contains(res.stderr, "HTTP Status 429") || !strings.Contains(res.stderr, "Too many failed logins") {
		t.Errorf("dvp while throttled: %d\n%s", res.code, res.stderr)
	}
	// Wait what Retry-After says, then log in.
	for i := 0; ; i++ {
		secs, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 60 {
			t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
		}
		time.Sleep(time.Duration(secs) * time.Second)
		if a = try(adminPassword); a.code == 200 {
			break
		}
		if a.code != 429 || i == 3 {
			t.Fatalf("after waiting: %+v", a)
		}
	}
	// The failures are forgotten: dvp logs in at once.
	if res := dvp(t, nil, "environment", "list", "-e", e.url, "-u", "admin"); res.code != 0 {
		t.Errorf("dvp after the wait: %d\n%s", res.code, res.stderr)
	}
}

// TestSlowBodyClosed: a body sent a byte now and then to the
// unauthenticated session resource is cut off at --body-timeout.
func TestSlowBodyClosed(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--body-timeout", "1s")
	addr := strings.TrimPrefix(e.url, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a guard against a hang only
	fmt.Fprintf(conn, "POST /resources/json/delphix/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", addr)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "could not be read") {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
		_, err = br.ReadByte()
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the engine kept the slow body's connection open")
	}
}

func TestShortAdminPasswordRefused(t *testing.T) {
	cmd := exec.Command(dvpBin, "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(baseEnv(t), "DVP_ENGINE_ADMIN_PASSWORD=secret")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "shorter than 8 characters") || !strings.Contains(string(out), "--allow-short-password") {
		t.Errorf("%v\n%s", err, out)
	}
	if strings.Contains(string(out), "secret") {
		t.Errorf("the password was shown:\n%s", out)
	}
}

// TestEngineMessagesSpeakDvp: what the engine says reaches the user of dvp
// in dvp commands: no REST path, no "send the request again".
func TestEngineMessagesSpeakDvp(t *testing.T) {
	e := startEngine(t, t.TempDir())
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(key, []byte("not really a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"snapshot", "list", "nosuch"}, []string{"dvp dsource list or dvp vdb list"}},
		{[]string{"environment", "refresh", "nosuch"}, []string{"dvp environment list"}},
		// The engine's user has no ~/.ssh/known_hosts: the real cause is a
		// missing --known-hosts, and the message says so.
		{[]string{"environment", "add", "e1", "--host", "127.0.0.1", "--ssh-user", "root", "--ssh-key", key},
			[]string{"/knownHostsFile", "dvp environment add --known-hosts FILE", "--insecure-ignore-host-key", "then add the environment again"}},
	} {
		res := dvp(t, nil, append(c.args, "-e", e.url, "-u", "admin")...)
		if res.code != 1 {
			t.Errorf("%v: exit %d\n%s", c.args, res.code, res.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%v: no %q in:\n%s", c.args, w, res.stderr)
			}
		}
		for _, bad := range []string{"/resources/json", "send the request", "GET ", "POST "} {
			if strings.Contains(res.stderr, bad) {
				t.Errorf("%v: %q in:\n%s", c.args, bad, res.stderr)
			}
		}
	}
}

// TestConnectionAndHeaderCaps: at --max-connections, a new client is
// served by closing the connection idle the longest; a header over
// --max-header-size is refused.
func TestConnectionAndHeaderCaps(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--max-connections", "2", "--max-header-size", "8KiB")
	addr := strings.TrimPrefix(e.url, "http://")
	get := func(conn net.Conn, br *bufio.Reader) error {
		fmt.Fprintf(conn, "GET /resources/json/delphix/toolkit HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}
	var readers []*bufio.Reader
	var conns []net.Conn
	for i := range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang only
		br := bufio.NewReader(conn)
		readers, conns = append(readers, br), append(conns, conn)
		// Two keep-alive connections stay open and idle; the third is
		// served all the same.
		if err := get(conn, br); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}
	// One of the first two was closed to make room (the one idle the
	// longest); the other stays open: reading it waits until a deadline.
	closed := 0
	for i := range 2 {
		conns[i].SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := readers[i].ReadByte()
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			closed++
		}
	}
	if closed != 1 {
		t.Errorf("%d of the first two connections were closed at a cap of 2, want 1", closed)
	}
	big := strings.Repeat("x", 16<<10)
	a := raw(t, addr, "GET", "/resources/json/delphix/toolkit", []string{"Host: " + addr, "X-Big: " + big}, "")
	if a.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 16 KiB header: %+v", a)
	}
}

// TestStalledUploadClosed: an upload may take long, but one that sends
// nothing for --upload-idle-timeout is cut off.
func TestStalledUploadClosed(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--upload-idle-timeout", "1s")
	addr := strings.TrimPrefix(e.url, "http://")
	s := raw(t, addr, "POST", "/resources/json/delphix/session", []string{"Host: " + addr, "Content-Type: application/json"}, pySession)
	l := raw(t, addr, "POST", "/resources/json/delphix/login", []string{"Host: " + addr, "Content-Type: application/json", "Cookie: " + strings.SplitN(s.cookie, ";", 2)[0]}, pyLogin(adminPassword))
	cookie := strings.SplitN(l.cookie, ";", 2)[0]
	if l.code != 200 || cookie == "" {
		t.Fatalf("login: %+v", l)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a guard against a hang only
	fmt.Fprintf(conn, "POST /resources/json/delphix/data/upload HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n"+
		"Content-Type: multipart/form-data; boundary=----------boundary------\r\nContent-Length: 100000000\r\n\r\n"+
		"------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n", addr, cookie)
	// ... and then nothing.
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 400 {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
		_, err = br.ReadByte()
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the engine kept the stalled upload's connection open")
	}
}
