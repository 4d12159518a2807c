package guard

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxConns is the default of --max-connections.
const DefaultMaxConns = 128

// ConnLimiter is a listener that holds at most max connections. When a
// new connection arrives at the cap, the connection idle the longest
// (between two requests of a keep-alive client) is closed to make room;
// when none is idle, the new connection waits until one closes. Give its
// ConnState method to the http.Server, so that it knows which connections
// are idle.
type ConnLimiter struct {
	net.Listener
	max    int
	mu     sync.Mutex
	cond   *sync.Cond
	conns  map[*limitedConn]time.Time // idle since; zero: busy
	closed bool
}

// LimitListener returns ln holding at most max connections (0: the
// default).
func LimitListener(ln net.Listener, max int) *ConnLimiter {
	if max <= 0 {
		max = DefaultMaxConns
	}
	l := &ConnLimiter{Listener: ln, max: max, conns: map[*limitedConn]time.Time{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Accept waits for a connection and a free place for it.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.conns) >= l.max && !l.closed {
		if idle := l.oldestIdle(); idle != nil {
			delete(l.conns, idle)
			go idle.Conn.Close() // its server goroutine sees the close and ends
			continue
		}
		l.cond.Wait()
	}
	lc := &limitedConn{Conn: c, l: l}
	l.conns[lc] = time.Time{}
	return lc, nil
}

func (l *ConnLimiter) oldestIdle() *limitedConn {
	var old *limitedConn
	var since time.Time
	for c, t := range l.conns {
		if !t.IsZero() && (old == nil || t.Before(since)) {
			old, since = c, t
		}
	}
	return old
}

// Close closes the listener and wakes a waiting Accept.
func (l *ConnLimiter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// Open is the number of connections held.
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// ConnState records which connections are idle (http.Server.ConnState).
func (l *ConnLimiter) ConnState(c net.Conn, s http.ConnState) {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = u.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, held := l.conns[lc]; !held {
		return
	}
	switch s {
	case http.StateIdle:
		l.conns[lc] = time.Now()
		l.cond.Broadcast() // a waiting Accept may close it
	case http.StateActive, http.StateNew:
		l.conns[lc] = time.Time{}
	}
}

func (l *ConnLimiter) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
	l.cond.Broadcast()
}

type limitedConn struct {
	net.Conn
	l    *ConnLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}
