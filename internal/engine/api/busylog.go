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
	b.warn(log, err.ID, "request refused: the engine is busy", "path", path, "id", err.ID, "details", err.Details)
}

// warn logs msg with args as a warning, at most once per key every
// busyLogEvery, saying how many were not logged since (not_logged_since).
// Failed and throttled logins go through it too: anyone who reaches the
// engine can send thousands a second.
func (b *busyLog) warn(log *slog.Logger, key, msg string, args ...any) {
	now := b.clock()
	b.mu.Lock()
	s := b.ids[key]
	if s == nil {
		if len(b.ids) >= 64 { // keys are the engine's own few; bound it anyway
			clear(b.ids)
		}
		s = &busySeen{}
		b.ids[key] = s
	}
	if !s.last.IsZero() && now.Sub(s.last) < busyLogEvery {
		s.missed++
		b.mu.Unlock()
		return
	}
	missed := s.missed
	s.last, s.missed = now, 0
	b.mu.Unlock()
	if missed > 0 {
		args = append(args, "not_logged_since", missed)
	}
	log.Warn(msg, args...)
}
