package engineclient

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHugeAnswerHeadersRefused: a hostile engine answers with 4 MiB of
// headers (Go's default bound is 10 MB, all held in memory). dvp reads at
// most MaxResponseHeaderBytes of them, stops, and says why, without asking
// again.
func TestHugeAnswerHeadersRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var requests atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				requests.Add(1)
				w := bufio.NewWriter(conn)
				fmt.Fprint(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
				for i := 0; i < 4<<10; i++ {
					fmt.Fprintf(w, "X-Filler-%d: %s\r\n", i, strings.Repeat("a", 1000))
				}
				body := `{"type": "ListResult", "status": "OK", "result": [], "total": 0}`
				fmt.Fprintf(w, "Content-Length: %d\r\n\r\n%s", len(body), body)
				w.Flush()
			}()
		}
	}()
	c, _ := newTestClient(t, "http://"+ln.Addr().String())
	_, err = c.get(context.Background(), "delphix/environment", "application/json")
	if err == nil || !strings.Contains(err.Error(), "headers") || !strings.Contains(err.Error(), fmt.Sprint(MaxResponseHeaderBytes)) {
		t.Errorf("an answer with 4 MiB of headers: %v; want a refusal naming the %d-byte bound", err, MaxResponseHeaderBytes)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the answer was asked for %d times; want once", n)
	}
}
