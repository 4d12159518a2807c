package guard

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLongURLAndHeadersAnswered: a request whose URL (an object named by
// a very long name) or headers are over the limit gets the API's
// ErrorResult saying why — 414 or 431 — and one far over it net/http's
// own 431, read by the client to its end: the connection was reset
// before (the server closed it with the request unread and without
// shutting its sending side first), and the client saw "connection reset
// by peer" instead of an answer.
func TestLongURLAndHeadersAnswered(t *testing.T) {
	const limit = 8 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := LimitListener(ln, 8)
	g := New(Config{MaxHeaderBytes: limit})
	srv := &http.Server{ConnState: lim.ConnState, ConnContext: lim.ConnContext, MaxHeaderBytes: ServerHeaderBytes(limit),
		Handler: lim.Wrap(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })))}
	go srv.Serve(lim)
	defer srv.Close()
	addr := ln.Addr().String()

	// send writes a request and reads the whole answer, to the end of the
	// connection (every answer here closes it).
	send := func(path, header string) (int, []byte, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang only
		go fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path, header)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			_, err = br.ReadByte() // the connection's end
			if errors.Is(err, io.EOF) {
				err = nil
			}
		}
		return resp.StatusCode, body, err
	}
	var env struct {
		Type  string
		Error struct{ ID, Details, Action string }
	}
	for _, c := range []struct {
		name, path, header string
		status             int
		id, says           string
	}{
		{"a 10 KB URL", "/resources/json/delphix/database/" + strings.Repeat("a", 10<<10), "", 414, "exception.webservices.uri.too.long", "reads at most 8192 bytes of a request's URL and headers (--max-header-size)"},
		{"a 10 KB header", "/x", "X-Big: " + strings.Repeat("b", 10<<10) + "\r\n", 431, "exception.webservices.headers.too.large", "the engine reads at most 8192 (--max-header-size)"},
	} {
		status, body, err := send(c.path, c.header)
		env.Type, env.Error.ID, env.Error.Details = "", "", ""
		if err != nil || status != c.status || json.Unmarshal(body, &env) != nil || env.Type != "ErrorResult" || env.Error.ID != c.id || !strings.Contains(env.Error.Details, c.says) || env.Error.Action == "" {
			t.Errorf("%s: %d %s (%v); want %d %s saying %q", c.name, status, body, err, c.status, c.id, c.says)
		}
	}
	// Far over the limit: net/http stops reading and answers itself.
	status, body, err := send("/resources/json/delphix/database/"+strings.Repeat("a", 1<<20), "")
	if err != nil || status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 1 MiB URL: %d %q, %v; want net/http's 431, read to the end of the connection", status, body, err)
	}
	// Within the limit: served.
	if status, body, err := send("/ok", "Connection: close\r\n"); err != nil || status != 200 || string(body) != "ok" {
		t.Errorf("a small request: %d %q %v", status, body, err)
	}
}
