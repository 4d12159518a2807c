package guard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestConnLimiter: at the cap, an idle keep-alive connection is closed to
// make room for a new one; busy connections make a new one wait.
func TestConnLimiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := LimitListener(ln, 2)
	release := make(chan struct{})
	srv := &http.Server{ConnState: lim.ConnState, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
		io.WriteString(w, "ok")
	})}
	go srv.Serve(lim)
	defer srv.Close()
	addr := ln.Addr().String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hang only
		return c, bufio.NewReader(c)
	}
	get := func(c net.Conn, br *bufio.Reader, path string) error {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	// Two keep-alive connections, idle after one request each.
	c1, b1 := dial()
	defer c1.Close()
	c2, b2 := dial()
	defer c2.Close()
	// c1 goes idle first (the server marks it idle after it answered).
	if get(c1, b1, "/") != nil {
		t.Fatal("first request failed")
	}
	for lim.idle() < 1 {
		time.Sleep(time.Millisecond)
	}
	if get(c2, b2, "/") != nil {
		t.Fatal("second request failed")
	}
	for lim.idle() < 2 {
		time.Sleep(time.Millisecond)
	}
	// A third connection is served: the oldest idle one is closed.
	c3, b3 := dial()
	defer c3.Close()
	if err := get(c3, b3, "/"); err != nil {
		t.Fatalf("third connection: %v", err)
	}
	if _, err := b1.ReadByte(); err == nil {
		t.Error("the idle connection was not closed")
	}
	if n := lim.Open(); n > 2 {
		t.Errorf("%d connections held", n)
	}
	// Two busy connections: a third one waits until one ends.
	go get(c2, b2, "/block")
	go get(c3, b3, "/block")
	for lim.busy() < 2 {
		time.Sleep(time.Millisecond)
	}
	c4, b4 := dial()
	defer c4.Close()
	served := make(chan error, 1)
	go func() { served <- get(c4, b4, "/") }()
	select {
	case err := <-served:
		t.Fatalf("served beside two busy connections at a cap of 2: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := lim.Open(); n != 2 {
		t.Errorf("%d connections held at a cap of 2", n)
	}
	close(release)
	if err := <-served; err != nil {
		t.Fatalf("the waiting connection: %v", err)
	}
}

// busy counts the connections with a request in progress.
func (l *ConnLimiter) busy() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busyLocked()
}

// idle counts the connections between two requests.
func (l *ConnLimiter) idle() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns) - l.busyLocked()
}

func (l *ConnLimiter) busyLocked() int {
	n := 0
	for _, t := range l.conns {
		if t.IsZero() {
			n++
		}
	}
	return n
}
