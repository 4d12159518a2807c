package guard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnLimiter: at the cap, an idle keep-alive connection is closed to
// make room for a new one (once it has been idle for the grace period);
// busy connections make a new one wait.
func TestConnLimiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := LimitListenerWith(ln, 2, LimitOptions{IdleGrace: 20 * time.Millisecond})
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
	// c1 goes idle first (the server marks it idle after it answered).
	// c2 is dialed after that: a connection not used yet counts as idle
	// too, since it was accepted.
	if get(c1, b1, "/") != nil {
		t.Fatal("first request failed")
	}
	for lim.idle() < 1 {
		time.Sleep(time.Millisecond)
	}
	c2, b2 := dial()
	defer c2.Close()
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

// TestConnLimiterSparesRecentlyIdle causes what made clients fail under
// load: at the cap, a new connection used to close the connection idle
// the longest at once, even when its client had just used it and was
// about to send its next request there — a POST, which a client cannot
// send again, then failed with EOF. Now a connection idle for less than
// the grace period is not closed: its client's next POST is answered,
// and the new connection, finding no room within the wait, is answered a
// 503 that says why and closed.
func TestConnLimiterSparesRecentlyIdle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := LimitListenerWith(ln, 2, LimitOptions{IdleGrace: time.Hour, RoomWait: 100 * time.Millisecond})
	srv := &http.Server{ConnState: lim.ConnState, ConnContext: lim.ConnContext,
		Handler: lim.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		}))}
	go srv.Serve(lim)
	defer srv.Close()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second)) // a guard against a hang only
		return c, bufio.NewReader(c)
	}
	post := func(c net.Conn, br *bufio.Reader) (*http.Response, string, error) {
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, "", err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b), err
	}
	// Two keep-alive connections at the cap, both just used.
	c1, b1 := dial()
	defer c1.Close()
	c2, b2 := dial()
	defer c2.Close()
	for _, c := range []struct {
		c net.Conn
		b *bufio.Reader
	}{{c1, b1}, {c2, b2}} {
		if resp, _, err := post(c.c, c.b); err != nil || resp.StatusCode != 200 {
			t.Fatalf("a first POST: %v", err)
		}
	}
	for lim.idle() < 2 {
		time.Sleep(time.Millisecond)
	}
	// A third connection: no room within the wait, a clean refusal.
	c3, b3 := dial()
	defer c3.Close()
	resp, body, err := post(c3, b3)
	if err != nil {
		t.Fatalf("the connection over the cap got no answer: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !resp.Close ||
		!strings.Contains(body, `"status":"ERROR"`) || !strings.Contains(body, "maximum of 2 connections") || !strings.Contains(body, "--max-connections") {
		t.Errorf("the connection over the cap: %d %v close=%v\n%s", resp.StatusCode, resp.Header, resp.Close, body)
	}
	if _, err := b3.ReadByte(); err == nil {
		t.Error("the refused connection was not closed")
	}
	// The clients of the two idle connections send their next POSTs on
	// them: both answered.
	for i, c := range []struct {
		c net.Conn
		b *bufio.Reader
	}{{c1, b1}, {c2, b2}} {
		if resp, body, err := post(c.c, c.b); err != nil || resp.StatusCode != 200 || body != "ok" {
			t.Errorf("the next POST on idle connection %d: %v", i+1, err)
		}
	}
	if n := lim.Open(); n != 2 {
		t.Errorf("%d connections held at a cap of 2", n)
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
