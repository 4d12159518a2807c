package guard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientThatStopsReadingIsDropped: a client sends 100,000 requests on
// one connection (no password needed: each is answered) and reads none of
// the answers. The engine's writes fill the socket's buffers and block; a
// blocked write held the handler and the connection (one of
// --max-connections) for as long as the client pleased. With a write idle
// timeout the write fails, the connection is closed, and the client, when
// it reads at last, finds the end of the connection long before the last
// answer.
func TestClientThatStopsReadingIsDropped(t *testing.T) {
	answer := strings.Repeat("x", 1000)
	g := New(Config{WriteIdleTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, answer)
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const requests = 100000
	go func() {
		w := bufio.NewWriter(conn)
		for i := 0; i < requests; i++ {
			if _, err := io.WriteString(w, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
				return
			}
		}
		w.Flush()
	}()
	time.Sleep(2 * time.Second) // reading nothing, well past the timeout
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(conn)
	read := 0
	for ; read < requests; read++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if read == requests {
		t.Errorf("all %d answers arrived: the engine kept writing to a client that had stopped reading", requests)
	}
}
