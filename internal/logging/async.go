package logging

import (
	"context"
	"log/slog"
	"sync"
)

// Async returns a handler that passes h's records to a goroutine of its
// own, which writes them in order, so that a caller does not wait for the
// write of its log line. Records at Warn and above are still written
// before Handle returns (after every record before them): a warning or an
// error is in the log when the call that made it returns. At most max
// records wait (a caller waits for room beyond that: memory stays
// bounded). Close writes the records waiting and stops the goroutine;
// records after Close are written at once, as h writes them.
//
// The engine logs through it (docs/performance.md): a write to the debug
// log file waits for the file system, and with every request goroutine
// queued on the file's lock behind it, uploads waited for each other's
// debug lines.
func Async(h slog.Handler, max int) (slog.Handler, func()) {
	q := &asyncQueue{ch: make(chan asyncRecord, max), done: make(chan struct{})}
	go q.run()
	return &asyncHandler{h: h, q: q}, q.close
}

type asyncQueue struct {
	mu     sync.RWMutex // held to send, taken exclusively to close ch
	closed bool
	ch     chan asyncRecord
	done   chan struct{} // closed when run has written the last record
}

type asyncRecord struct {
	h       slog.Handler
	r       slog.Record
	written chan struct{} // nil: nobody waits
}

func (q *asyncQueue) run() {
	defer close(q.done)
	for rec := range q.ch {
		_ = rec.h.Handle(context.Background(), rec.r)
		if rec.written != nil {
			close(rec.written)
		}
	}
}

func (q *asyncQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	<-q.done
}

type asyncHandler struct {
	h slog.Handler
	q *asyncQueue
}

func (a *asyncHandler) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

func (a *asyncHandler) Handle(ctx context.Context, r slog.Record) error {
	// The values are resolved now (a LogValuer, and whatever the caller
	// changes after the call, must not be read by another goroutine later).
	rec := asyncRecord{h: a.h, r: slog.NewRecord(r.Time, r.Level, r.Message, r.PC)}
	r.Attrs(func(at slog.Attr) bool {
		at.Value = at.Value.Resolve()
		rec.r.AddAttrs(at)
		return true
	})
	if r.Level >= slog.LevelWarn {
		rec.written = make(chan struct{})
	}
	a.q.mu.RLock()
	if a.q.closed {
		a.q.mu.RUnlock()
		return a.h.Handle(ctx, rec.r)
	}
	a.q.ch <- rec
	a.q.mu.RUnlock()
	if rec.written != nil {
		<-rec.written
	}
	return nil
}

func (a *asyncHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &asyncHandler{h: a.h.WithAttrs(as), q: a.q}
}

func (a *asyncHandler) WithGroup(name string) slog.Handler {
	return &asyncHandler{h: a.h.WithGroup(name), q: a.q}
}
