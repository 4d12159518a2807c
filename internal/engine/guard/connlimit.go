package guard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of the connection limiter.
const (
	// DefaultMaxConns is the default of --max-connections.
	DefaultMaxConns = 128
	// DefaultIdleGrace is how long a connection must have been idle
	// before the limiter may close it to make room.
	DefaultIdleGrace = time.Second
	// DefaultRoomWait is how long a new connection waits for room at the
	// cap before it is answered 503.
	DefaultRoomWait = 5 * time.Second
	// maxRefusing bounds the connections held over the cap to be answered
	// 503; beyond it, a new connection is closed at once.
	maxRefusing = 16
)

// ConnLimiter is a listener that holds at most max connections.
//
// When a new connection arrives at the cap, the connection idle the
// longest is closed to make room, but only once it has been idle (between
// two requests of a keep-alive client, or accepted and never used) for
// the grace period: a client that is about to send its next request on a
// connection it has just used must not find it closed under it, because
// a POST cannot be sent again safely. HTTP clients keep their idle
// connections last in, first out, so the ones idle longest are the ones
// they are least likely to pick. When no connection has been idle that
// long, the new one waits up to RoomWait for one to end or to pass the
// grace period; after that it is served a 503 refusal that says why
// (Retry-After: 1) and closed, rather than kept waiting unseen.
//
// Give its ConnState and ConnContext methods to the http.Server and wrap
// the server's handler with Wrap.
type ConnLimiter struct {
	net.Listener
	max      int
	grace    time.Duration
	roomWait time.Duration
	now      func() time.Time
	mu       sync.Mutex
	cond     *sync.Cond
	conns    map[*limitedConn]time.Time // idle (or unused) since; zero: busy
	refusing int                        // connections over the cap, to be refused
	closed   bool
}

// LimitOptions tune a ConnLimiter; zero values are the defaults.
type LimitOptions struct {
	IdleGrace time.Duration
	RoomWait  time.Duration
}

// LimitListener returns ln holding at most max connections (0: the
// default).
func LimitListener(ln net.Listener, max int) *ConnLimiter {
	return LimitListenerWith(ln, max, LimitOptions{})
}

// LimitListenerWith is LimitListener with options.
func LimitListenerWith(ln net.Listener, max int, o LimitOptions) *ConnLimiter {
	if max <= 0 {
		max = DefaultMaxConns
	}
	if o.IdleGrace <= 0 {
		o.IdleGrace = DefaultIdleGrace
	}
	if o.RoomWait <= 0 {
		o.RoomWait = DefaultRoomWait
	}
	l := &ConnLimiter{Listener: ln, max: max, grace: o.IdleGrace, roomWait: o.RoomWait, now: time.Now,
		conns: map[*limitedConn]time.Time{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Accept waits for a connection and a place for it.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.place(c); lc != nil {
			return lc, nil
		}
		c.Close() // over the cap and too many being refused already
	}
}

// place makes room for c, or marks it to be refused, or returns nil when
// it is to be closed at once.
func (l *ConnLimiter) place(c net.Conn) *limitedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := l.now().Add(l.roomWait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for len(l.conns) >= l.max && !l.closed {
		now := l.now()
		idle, since := l.oldestIdle()
		if idle != nil && now.Sub(since) >= l.grace {
			delete(l.conns, idle)
			go idle.Conn.Close() // its server goroutine sees the close and ends
			continue
		}
		if !now.Before(deadline) {
			if l.refusing >= maxRefusing {
				return nil
			}
			l.refusing++
			return &limitedConn{Conn: c, l: l, refused: true}
		}
		// Wake up when the oldest idle connection passes the grace
		// period or the wait ends, if no connection changes before.
		wake := deadline
		if idle != nil && since.Add(l.grace).Before(wake) {
			wake = since.Add(l.grace)
		}
		if timer != nil {
			timer.Stop()
		}
		timer = time.AfterFunc(wake.Sub(now), func() {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
		})
		l.cond.Wait()
	}
	lc := &limitedConn{Conn: c, l: l}
	l.conns[lc] = l.now() // unused until its first request
	return lc
}

// oldestIdle is the connection idle (or unused) the longest, and since
// when.
func (l *ConnLimiter) oldestIdle() (*limitedConn, time.Time) {
	var old *limitedConn
	var since time.Time
	for c, t := range l.conns {
		if !t.IsZero() && (old == nil || t.Before(since)) {
			old, since = c, t
		}
	}
	return old, since
}

// Close closes the listener and wakes a waiting Accept.
func (l *ConnLimiter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// Open is the number of connections held (not counting those being
// refused).
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// ConnState records which connections are idle (http.Server.ConnState).
func (l *ConnLimiter) ConnState(c net.Conn, s http.ConnState) {
	lc, ok := unwrapConn(c)
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
		l.conns[lc] = l.now()
		l.cond.Broadcast() // a waiting Accept may close it after the grace
	case http.StateActive:
		l.conns[lc] = time.Time{}
	}
}

func unwrapConn(c net.Conn) (*limitedConn, bool) {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = u.NetConn()
	}
	lc, ok := c.(*limitedConn)
	return lc, ok
}

type refusedKey struct{}

// ConnContext marks the requests of a connection held over the cap
// (http.Server.ConnContext), for Wrap.
func (l *ConnLimiter) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := unwrapConn(c); ok && lc.refused {
		return context.WithValue(ctx, refusedKey{}, true)
	}
	return ctx
}

// Wrap answers the requests of a connection held over the cap with a 503
// refusal and closes the connection; it passes the others to h.
func (l *ConnLimiter) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(refusedKey{}) == nil {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		writeRefusal(w, r, &Refusal{Status: http.StatusServiceUnavailable, ID: "exception.webservices.too.many.connections",
			Details: fmt.Sprintf("The engine holds its maximum of %d connections, and none of them became free within %s.", l.max, l.roomWait),
			Action:  "Try again in a moment. If many clients use this engine at once, start it with a larger --max-connections.", RetryAfter: 1})
	})
}

func (l *ConnLimiter) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.refused {
		l.refusing--
		return
	}
	delete(l.conns, c)
	l.cond.Broadcast()
}

type limitedConn struct {
	net.Conn
	l       *ConnLimiter
	refused bool // held over the cap: its request is answered 503
	once    sync.Once
}

// CloseWrite shuts the sending side of the connection (a TCP connection
// does). net/http calls it after an answer it writes itself before it
// closes a connection — its 431 to a request whose headers are over the
// server's bound, its 400 to a malformed one — so that the client reads the
// answer to its end: without it the close, with the client's request
// still unread, resets the connection and the client sees "connection
// reset by peer" instead of the answer.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}
