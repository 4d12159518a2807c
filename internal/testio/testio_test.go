package testio

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Writers and readers at once: every write is kept whole (go test -race
// reports the data race an unlocked buffer has).
func TestBufferConcurrentWritesAndReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Write([]byte("line\n"))
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 800 || len(b.String()) != 800*5 {
		t.Errorf("%d whole lines in %d bytes, want 800 in 4000", got, len(b.String()))
	}
}

// A Clock's timer fires in the Advance that reaches its deadline, not
// before; Reset moves the deadline and is counted; Stop keeps it from
// firing; a fired timer fires again only once reset.
func TestClock(t *testing.T) {
	var c Clock
	var fired atomic.Int32
	tm := c.AfterFunc(10*time.Second, func() { fired.Add(1) })
	c.Advance(9 * time.Second)
	if fired.Load() != 0 || c.Fired() != 0 {
		t.Fatal("fired before its deadline")
	}
	n := c.Resets()
	done := make(chan bool)
	go func() { done <- c.WaitResets(n, nil) }()
	if !tm.Reset(10 * time.Second) {
		t.Error("Reset of an active timer said it was not active")
	}
	if !<-done || c.Resets() != n+1 {
		t.Errorf("the reset was not seen: %d resets", c.Resets())
	}
	c.Advance(9 * time.Second) // 18 s: 1 s before the moved deadline
	if fired.Load() != 0 {
		t.Fatal("fired before its moved deadline")
	}
	c.Advance(time.Second)
	if fired.Load() != 1 || c.Fired() != 1 {
		t.Fatalf("fired %d times at its deadline, want 1", fired.Load())
	}
	c.Advance(time.Hour)
	if fired.Load() != 1 {
		t.Fatal("a fired timer fired again")
	}
	if tm.Reset(time.Second) {
		t.Error("Reset of a fired timer said it was active")
	}
	if !tm.Stop() || tm.Stop() {
		t.Error("Stop did not report the timer active once")
	}
	c.Advance(time.Hour)
	if fired.Load() != 1 {
		t.Fatal("a stopped timer fired")
	}
	stop := make(chan struct{})
	close(stop)
	if c.WaitResets(c.Resets(), stop) {
		t.Error("WaitResets saw a reset that did not happen")
	}
}
