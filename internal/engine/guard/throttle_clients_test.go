package guard

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestThrottleKnownClientNotLockedOut: failed logins as admin from other
// clients used to make every client wait (the user name's backoff): an
// attacker anywhere locked the admin out. A client that has logged in as
// the user is now held back by its own failures only; unknown clients
// still meet the user's wait, so guesses spread over many addresses stay
// slow.
func TestThrottleKnownClientNotLockedOut(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleConfig{Clock: c.now, FreeFailures: 3, BackoffBase: time.Second, BackoffMax: time.Minute})
	if f := login(t, th, "192.0.2.1", "admin", true); f != nil {
		t.Fatalf("the admin's first login: %+v", f)
	}
	// An attacker fails logins as admin from many addresses, as fast as
	// the throttle lets it.
	refusedForUser := 0
	for i := range 200 {
		f := login(t, th, fmt.Sprintf("198.51.100.%d", i%50), "admin", false)
		if f != nil && strings.Contains(f.Details, `for the user "admin"`) {
			refusedForUser++
		}
		c.advance(100 * time.Millisecond)
	}
	if refusedForUser == 0 {
		t.Fatal("200 failures from 50 unknown addresses: the user's wait never held one back")
	}
	// The admin's known client logs in at once, and again.
	for i := range 3 {
		if f := login(t, th, "192.0.2.1", "admin", true); f != nil {
			t.Fatalf("the admin's known client, login %d: %+v", i, f)
		}
	}
	// An unknown client still waits for the user...
	if f := login(t, th, "203.0.113.7", "admin", true); f == nil || !strings.Contains(f.Details, `for the user "admin"`) {
		t.Errorf("an unknown client during the attack: %+v, want the user's wait", f)
	}
	// ... and the known client's own failures still count for it.
	for range 3 {
		login(t, th, "192.0.2.1", "admin", false)
	}
	if f := login(t, th, "192.0.2.1", "admin", true); f == nil || !strings.Contains(f.Details, "from the address 192.0.2.1") {
		t.Errorf("the known client after 3 failures of its own: %+v, want its wait", f)
	}
	// Known for that user only.
	if f := login(t, th, "192.0.2.2", "admin", true); f == nil {
		t.Error("another address of the known client's network: let through")
	}
}

// TestThrottleLocalUsersApart: clients on this machine are keyed by the
// user ID owning their socket; one user's failures neither hold back
// another's nor count in the user name's.
func TestThrottleLocalUsersApart(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleConfig{Clock: c.now, FreeFailures: 3})
	mallory, alice := localUserPrefix+"1001", localUserPrefix+"1000"
	for range 10 {
		login(t, th, mallory, "admin", false)
	}
	f := login(t, th, mallory, "admin", true)
	if f == nil || f.Status != 429 || !strings.Contains(f.Details, "from the processes of user ID 1001 on this machine") {
		t.Fatalf("the failing local user: %+v, want its wait", f)
	}
	if f := login(t, th, alice, "admin", true); f != nil {
		t.Errorf("another local user (never logged in before): %+v", f)
	}
	if f := login(t, th, "192.0.2.1", "admin", true); f != nil {
		t.Errorf("a remote client: %+v", f)
	}
	if len(th.users) != 0 {
		t.Errorf("a local user's failures counted for the user name: %v", th.users)
	}
}

func TestParseProcAddr(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/net/tcp is Linux's")
	}
	for _, c := range []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000000000000000000001000000:0016", "[::1]:22"},
		{"0000000000000000FFFF00000100007F:C350", "[::ffff:127.0.0.1]:50000"},
	} {
		got, ok := parseProcAddr(c.in)
		// The words are in the machine's byte order; the cases are a
		// little-endian machine's.
		if !ok || (nativeLittle() && got.String() != c.want) {
			t.Errorf("parseProcAddr(%q) = %v %v, want %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:XYZ", "01007F:1F90", "zz00007F:1F90"} {
		if _, ok := parseProcAddr(bad); ok {
			t.Errorf("parseProcAddr(%q) accepted", bad)
		}
	}
}

func nativeLittle() bool {
	a, _ := parseProcAddr("0100007F:0001")
	return a.Addr() == netip.MustParseAddr("127.0.0.1")
}

// TestClientKeyIsTheSocketOwner: through real HTTP, a loopback client is
// its user ID, whatever address of 127.0.0.0/8 it connects from; run by
// root, curl started as nobody is nobody's.
func TestClientKeyIsTheSocketOwner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the socket's owner is known on Linux only")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, ClientKey(r))
	}))
	defer srv.Close()
	get := func(local string) string {
		t.Helper()
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := make([]byte, 100)
		n, _ := resp.Body.Read(b)
		return string(b[:n])
	}
	want := fmt.Sprintf("local user ID %d", os.Getuid())
	for _, local := range []string{"127.0.0.1", "127.0.0.2", "127.9.8.7"} {
		if got := get(local); got != want {
			t.Errorf("from %s: key %q, want %q", local, got, want)
		}
	}
	curl, err := exec.LookPath("curl")
	if os.Getuid() != 0 || err != nil {
		t.Skip("curl as another user needs root and curl")
	}
	cmd := exec.Command(curl, "-sS", srv.URL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "local user ID 65534" {
		t.Errorf("curl as nobody: key %q", out)
	}
}
