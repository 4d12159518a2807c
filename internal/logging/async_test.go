package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedWriter records writes; while gate is held, writes wait.
type lockedWriter struct {
	gate sync.Mutex
	mu   sync.Mutex
	b    bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.gate.Lock()
	defer w.gate.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestAsyncKeepsOrderAndWritesWarningsAtOnce(t *testing.T) {
	w := &lockedWriter{}
	h, stop := Async(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), 4)
	log := slog.New(h).With("engine", "e1")
	// Debug and info lines do not wait for a stuck writer.
	w.gate.Lock()
	log.Debug("one", "n", 1)
	log.Info("two", "n", 2)
	if got := w.String(); got != "" {
		t.Fatalf("written while the writer was held: %q", got)
	}
	w.gate.Unlock()
	// A warning is written, after the lines before it, when Warn returns.
	log.Warn("three", "n", 3)
	got := w.String()
	i1, i2, i3 := strings.Index(got, "msg=one"), strings.Index(got, "msg=two"), strings.Index(got, "msg=three")
	if i1 < 0 || i2 < i1 || i3 < i2 || !strings.Contains(got, "engine=e1") {
		t.Fatalf("not every line, in order, with the handler's attributes:\n%s", got)
	}
	// Close writes what waits; lines after it are written at once.
	for i := 0; i < 20; i++ {
		log.Debug(fmt.Sprintf("line %d", i))
	}
	stop()
	if got := w.String(); !strings.Contains(got, "msg=\"line 19\"") {
		t.Fatalf("Close did not write the waiting lines:\n%s", got)
	}
	log.Info("after")
	if !strings.Contains(w.String(), "msg=after") {
		t.Fatal("a line after Close was not written at once")
	}
	stop() // again: nothing
}

// A value the caller changes after the call is logged as it was.
type counter struct{ n int }

func (c *counter) LogValue() slog.Value { return slog.IntValue(c.n) }

func TestAsyncResolvesValuesAtTheCall(t *testing.T) {
	w := &lockedWriter{}
	h, stop := Async(slog.NewTextHandler(w, nil), 16)
	c := &counter{n: 1}
	w.gate.Lock()
	slog.New(h).Info("value", "c", c)
	c.n = 2
	w.gate.Unlock()
	stop()
	if !strings.Contains(w.String(), "c=1") {
		t.Fatalf("got %q, want c=1", w.String())
	}
}
