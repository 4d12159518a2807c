package engine

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestUploadsAtOnceBounded: uploads whose bodies are slow to come each
// held up to --max-upload-size of the engine's memory and disk, as many
// as there were connections. Two uploads that declare the limit and send
// nothing fill the room (twice the limit): a third waits, then is refused
// at once with 503 and Retry-After, its body unread; once one of the two
// is gone, an upload goes through.
func TestUploadsAtOnceBounded(t *testing.T) {
	const limit = 32 << 20
	te := startEngine(t, "", func(c *Config) { c.MaxUploadBytes = limit; c.UploadWait = 300 * time.Millisecond })
	c := te.client(t)
	c.login(testPassword)
	addr := strings.TrimPrefix(te.srv.URL, "http://")
	stall := func() net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %sdelphix/data/upload HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			engineapi.APIPrefix, addr, c.cookie, multipartType, limit)
		return conn
	}
	// Which of the three the engine took first is its business: one of
	// them is refused once it has waited, the two others are read.
	token := c.token()
	conns := []net.Conn{stall(), stall(), stall()}
	answers := make(chan int, 3)
	for i, conn := range conns {
		defer conn.Close()
		go func() {
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("upload %d: %d (Retry-After %q); want 503 with Retry-After", i, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			answers <- i
		}()
	}
	var refused int
	select {
	case refused = <-answers:
	case <-time.After(20 * time.Second):
		t.Fatal("none of three uploads of the limit each, sent at once, was refused")
	}
	select {
	case i := <-answers:
		t.Fatalf("uploads %d and %d were both answered; want one refused, two read", refused, i)
	case <-time.After(time.Second):
	}
	conns[(refused+1)%3].Close()
	env := c.uploadWith(token, slowArtifact(t))
	if env.Type != "OKResult" {
		t.Errorf("an upload once room was free: %d %+v", env.code, env.Error)
	}
}
