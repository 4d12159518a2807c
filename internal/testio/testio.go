// Package testio holds what the tests of several packages share: Buffer,
// to watch a process or a goroutine write while the test reads, and Clock,
// timers that fire when the test moves the clock, not when the machine is
// slow. Only tests import it.
package testio

import (
	"bytes"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer that may be written (a process's stdout, a
// logger used by goroutines) while the test reads it: Write and String
// may be called at the same time. The zero value is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Clock is a clock for timers that moves only when the test advances it,
// never because the machine is slow: a timer started by AfterFunc fires
// in Advance once the clock has moved past its deadline. It counts the
// Reset calls of its timers (a transfer's progress resets its read
// timeout), which a test waits for with WaitResets. The zero value is at
// time 0, without timers.
type Clock struct {
	mu      sync.Mutex
	now     time.Duration
	timers  []*Timer
	resets  int
	fired   int
	changed chan struct{} // closed at the next Reset
}

// Timer is a timer of a Clock; it has the methods of *time.Timer that an
// AfterFunc timer is used with.
type Timer struct {
	c      *Clock
	at     time.Duration
	f      func()
	active bool
}

// AfterFunc starts a timer that calls f in its own goroutine once the
// clock is at d from now or later, as time.AfterFunc does.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Timer{c: c, at: c.now + d, f: f, active: true}
	c.timers = append(c.timers, t)
	return t
}

// Reset moves the timer's deadline to d from now and reports whether it
// was active; a stopped or fired timer starts again.
func (t *Timer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	was := t.active
	t.at, t.active = c.now+d, true
	c.resets++
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	return was
}

// Stop stops the timer and reports whether it was active.
func (t *Timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

// Advance moves the clock by d and fires, before it returns, every active
// timer whose deadline it reached or passed (each timer's function runs
// in a goroutine of its own, as time.AfterFunc's does, and Advance waits
// for them).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += d
	var due []func()
	for _, t := range c.timers {
		if t.active && t.at <= c.now {
			t.active = false
			c.fired++
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, f := range due {
		wg.Go(f)
	}
	wg.Wait()
}

// Fired returns how many times a timer fired so far.
func (c *Clock) Fired() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fired
}

// Resets returns how many times a timer was reset so far.
func (c *Clock) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

// WaitResets waits until a timer was reset more than n times in all (n
// is a count Resets returned) and reports whether that happened before
// stop was closed (a request's context, say: the test's client gave up).
func (c *Clock) WaitResets(n int, stop <-chan struct{}) bool {
	for {
		c.mu.Lock()
		if c.resets > n {
			c.mu.Unlock()
			return true
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return false
		}
	}
}
