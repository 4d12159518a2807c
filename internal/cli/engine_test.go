package cli_test

import (
	"net"
	"strings"
	"testing"
)

// TestEnginePortTaken: dvp engine serve on a port another program holds
// refuses loudly (exit 1), saying what to do, instead of scrolling a bind
// error past.
func TestEnginePortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, stderr := runDvp(t, "engine", "serve", "--listen", ln.Addr().String(), "--data-dir", t.TempDir(), "--insecure-no-sandbox")
	want := "Cannot listen on " + ln.Addr().String() + ": another program (another dvp engine?) listens there. Stop it, or give --listen 127.0.0.1:0 for a free port"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, want)
	}
}
