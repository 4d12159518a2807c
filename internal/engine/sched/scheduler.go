package sched

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the time a Scheduler runs on: the engine's, or a FakeClock in
// tests.
type Clock interface {
	Now() time.Time
	// At sends on the channel it returns once the time t has come (at
	// once when it has).
	At(t time.Time) <-chan time.Time
}

// realClock tells the time with now and waits with real timers.
type realClock struct{ now func() time.Time }

// RealClock is a Clock that tells the time with now (time.Now when nil)
// and waits with real timers.
func RealClock(now func() time.Time) Clock {
	if now == nil {
		now = time.Now
	}
	return realClock{now: now}
}

func (c realClock) Now() time.Time { return c.now() }

func (c realClock) At(t time.Time) <-chan time.Time { return time.After(t.Sub(c.now())) }

// Run is a due run the Scheduler hands to its fire function.
type Run struct {
	Key  string
	Due  time.Time // when it fell due
	Next time.Time // when the key runs next
	// Missed says it fell due before the scheduler started (the engine
	// was stopped then). However many runs were missed, one run stands
	// for them all.
	Missed bool
}

type entry struct {
	spec Spec
	next time.Time
}

// Scheduler fires keys when their Spec says: each due key once, however
// late, then at its next time.
type Scheduler struct {
	clock   Clock
	fire    func(Run)
	started time.Time

	mu      sync.Mutex
	entries map[string]*entry
	wake    chan struct{}
}

// New returns a scheduler on clock that calls fire (from Run's goroutine,
// one run at a time) for each due run.
func New(clock Clock, fire func(Run)) *Scheduler {
	return &Scheduler{clock: clock, fire: fire, started: clock.Now(), entries: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// Clock is the scheduler's clock.
func (s *Scheduler) Clock() Clock { return s.clock }

// Set schedules key on spec from next on: next is when it runs first
// (zero: the spec's first time after now; a time before the scheduler
// started makes a missed run, fired at once). A zero spec removes key.
// It returns when key runs next (zero when never).
func (s *Scheduler) Set(key string, spec Spec, next time.Time) time.Time {
	if spec.IsZero() {
		s.Remove(key)
		return time.Time{}
	}
	if next.IsZero() {
		next = spec.Next(s.clock.Now())
	}
	s.mu.Lock()
	s.entries[key] = &entry{spec: spec, next: next}
	s.mu.Unlock()
	s.poke()
	return next
}

// Remove unschedules key.
func (s *Scheduler) Remove(key string) {
	s.mu.Lock()
	delete(s.entries, key)
	s.mu.Unlock()
	s.poke()
}

// Next is when key runs next.
func (s *Scheduler) Next(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return time.Time{}, false
	}
	return e.next, true
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// due takes the runs due at now, moving each key to its next time, and
// returns them (oldest first) with the earliest next time of all keys.
func (s *Scheduler) due(now time.Time) ([]Run, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var runs []Run
	var earliest time.Time
	for k, e := range s.entries {
		if e.next.IsZero() { // a cron expression with no date left
			continue
		}
		if !e.next.After(now) {
			next := e.spec.Next(e.next)
			if !next.After(now) { // late by more than a period: the missed ones are not caught up
				next = e.spec.Next(now)
			}
			runs = append(runs, Run{Key: k, Due: e.next, Next: next, Missed: e.next.Before(s.started)})
			e.next = next
		}
		if !e.next.IsZero() && (earliest.IsZero() || e.next.Before(earliest)) {
			earliest = e.next
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].Due.Equal(runs[j].Due) {
			return runs[i].Due.Before(runs[j].Due)
		}
		return runs[i].Key < runs[j].Key
	})
	return runs, earliest
}

// Run fires due keys until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		runs, earliest := s.due(s.clock.Now())
		for _, r := range runs {
			if ctx.Err() != nil {
				return
			}
			s.fire(r)
		}
		var timer <-chan time.Time
		if !earliest.IsZero() {
			timer = s.clock.At(earliest)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer:
		}
	}
}
