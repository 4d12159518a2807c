// Package logging sets up dvp's two log sinks: the console (bare messages on
// stderr, threshold set by -v/-q) and the always-on debug log file
// (~/.dvp/logs/debug.log, every level, rotated, secrets redacted).
package logging

import (
	"github.com/dvpkit/dvp/internal/termsafe"

	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// LevelCritical is Python's CRITICAL, which -qq still shows.
const LevelCritical = slog.Level(12)

// Debug log constants, as in dvp 5.0.1 (docs/compatibility.md, Debug log).
const (
	DebugLogMaxBytes = 1 << 20
	DebugLogBackups  = 5
)

// ConsoleLevel maps the -v/-q counts to a slog level the way dvp maps them to
// Python levels: 30 - 10*verbose + 10*quiet, where WARNING (30) is the default.
func ConsoleLevel(verbose, quiet int) slog.Level {
	python := 30 - 10*verbose + 10*quiet
	// Python DEBUG=10..CRITICAL=50 -> slog -4..12 (4 per Python step of 10).
	return slog.Level((python - 20) * 4 / 10)
}

// DebugLogPath is where the debug log lives under a home directory.
func DebugLogPath(home string) string {
	return filepath.Join(home, ".dvp", "logs", "debug.log")
}

// Options configures New.
type Options struct {
	Console      io.Writer  // usually stderr
	ConsoleLevel slog.Level // from ConsoleLevel
	DebugLog     io.Writer  // nil: no debug log
	Redactor     *Redactor  // nil: a fresh one
}

// New returns a logger that fans out to the console and the debug log.
func New(o Options) *slog.Logger {
	red := o.Redactor
	if red == nil {
		red = NewRedactor()
	}
	h := &fanout{}
	if o.Console != nil {
		h.handlers = append(h.handlers, &consoleHandler{w: o.Console, level: o.ConsoleLevel, red: red, mu: &sync.Mutex{}})
	}
	if o.DebugLog != nil {
		h.handlers = append(h.handlers, &fileHandler{w: o.DebugLog, red: red, mu: &sync.Mutex{}})
	}
	return slog.New(h)
}

type fanout struct{ handlers []slog.Handler }

func (f *fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f.handlers {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f *fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f.handlers {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (f *fanout) WithAttrs(as []slog.Attr) slog.Handler {
	n := &fanout{}
	for _, h := range f.handlers {
		n.handlers = append(n.handlers, h.WithAttrs(as))
	}
	return n
}

func (f *fanout) WithGroup(name string) slog.Handler {
	n := &fanout{}
	for _, h := range f.handlers {
		n.handlers = append(n.handlers, h.WithGroup(name))
	}
	return n
}

// text renders the message followed by key=value attributes, redacted.
func text(r slog.Record, pre []slog.Attr, red *Redactor) string {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve().Any())
		return true
	}
	for _, a := range pre {
		add(a)
	}
	r.Attrs(add)
	// Messages quote engines and plugins: no control character reaches the
	// terminal or the log (termsafe).
	return termsafe.String(red.Redact(b.String()))
}

type consoleHandler struct {
	w     io.Writer
	level slog.Level
	red   *Redactor
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	line := text(r, h.attrs, h.red)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line+"\n")
	return err
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &n
}

func (h *consoleHandler) WithGroup(string) slog.Handler { return h }

type fileHandler struct {
	w     io.Writer
	red   *Redactor
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *fileHandler) Enabled(context.Context, slog.Level) bool { return true }

// Handle writes "2019-01-08 20:38:14,736 DEBUG    [cli.go:64] message" in UTC,
// the line format of dvp's debug log.
func (h *fileHandler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	t = t.UTC()
	src := "?:0"
	if r.PC != 0 {
		fr, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		src = fmt.Sprintf("%s:%d", filepath.Base(fr.File), fr.Line)
	}
	line := fmt.Sprintf("%s,%03d %-8s [%s] %s\n", t.Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6,
		levelName(r.Level), src, text(r, h.attrs, h.red))
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

func (h *fileHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &n
}

func (h *fileHandler) WithGroup(string) slog.Handler { return h }

func levelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}
