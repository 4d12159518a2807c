package guard

import (
	"net/http"
	"time"
)

// DefaultWriteIdleTimeout is Config.WriteIdleTimeout's default.
const DefaultWriteIdleTimeout = 60 * time.Second

// writeDeadline makes every write of the answer to r finish within
// WriteIdleTimeout of its start (at least 59/60 of it: the deadline is
// moved on when a write starts more than a 60th of it after the last
// move, not at every write, each move being a change of the runtime's
// timers), so that a client that stops reading — a
// long list, a log bundle, or thousands of requests sent at once on one
// connection and answers never read — cannot hold the handler and its
// connection (one of --max-connections) forever: the write fails, the
// handler ends and the connection is closed. A client that reads, however
// slowly, keeps its connection.
func (g *Guard) writeDeadline(w http.ResponseWriter) http.ResponseWriter {
	idle := g.cfg.WriteIdleTimeout
	if idle < 0 {
		return w
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	if rc.SetWriteDeadline(now.Add(idle)) != nil {
		return w
	}
	return &deadlineWriter{ResponseWriter: w, rc: rc, idle: idle, moved: now}
}

// deadlineWriter moves the write deadline on before a write, once a 60th
// of the timeout has passed since it last did.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	idle  time.Duration
	moved time.Time // when the deadline was last set
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.moved) > d.idle/60 {
		d.rc.SetWriteDeadline(now.Add(d.idle))
		d.moved = now
	}
	return d.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
