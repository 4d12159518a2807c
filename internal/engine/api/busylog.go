package api

import (
	"log/slog"
	"sync"
	"time"
)

// busyLogEvery is how often the engine logs a kind of busy refusal (503)
// at most: under load it may refuse hundreds a second.
const busyLogEvery = 10 * time.Second

// busyLog logs the engine's busy refusals (503: jobs, uploads or tokens
// at their bound) as warnings, not errors — a client's load meeting a
// bound is expected — and at most one per refusal id every busyLogEvery,
// saying how many were not logged since.
type busyLog struct {
	mu    sync.Mutex
	clock func() time.Time
	ids   map[string]*busySeen
}

type busySeen struct {
	last   time.Time
	missed int
}

func newBusyLog(clock func() time.Time) *busyLog {
	if clock == nil {
		clock = time.Now
	}
	return &busyLog{clock: clock, ids: map[string]*busySeen{}}
}

func (b *busyLog) refused(log *slog.Logger, path string, err *APIError) {
	now := b.clock()
	b.mu.Lock()
	s := b.ids[err.ID]
	if s == nil {
		if len(b.ids) >= 64 { // ids are the engine's own few; bound it anyway
			clear(b.ids)
		}
		s = &busySeen{}
		b.ids[err.ID] = s
	}
	if !s.last.IsZero() && now.Sub(s.last) < busyLogEvery {
		s.missed++
		b.mu.Unlock()
		return
	}
	missed := s.missed
	s.last, s.missed = now, 0
	b.mu.Unlock()
	args := []any{"path", path, "id", err.ID, "details", err.Details}
	if missed > 0 {
		args = append(args, "not_logged_since", missed)
	}
	log.Warn("request refused: the engine is busy", args...)
}
