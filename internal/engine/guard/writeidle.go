package guard

import (
	"net/http"
	"time"
)

// DefaultWriteIdleTimeout is Config.WriteIdleTimeout's default.
const DefaultWriteIdleTimeout = 60 * time.Second

// writeDeadline makes every write of the answer to r finish within
// WriteIdleTimeout of its start, so that a client that stops reading — a
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
	if rc.SetWriteDeadline(time.Now().Add(idle)) != nil {
		return w
	}
	return &deadlineWriter{ResponseWriter: w, rc: rc, idle: idle}
}

// deadlineWriter moves the write deadline on before every write.
type deadlineWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.rc.SetWriteDeadline(time.Now().Add(d.idle))
	return d.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
