package pluginhost

import (
	"context"
	"io"
	"sync"
)

// Output lines: the engine records the lines a plugin's commands print as
// they print them (docs/engine.md, "Jobs"), so that a long run_bash or
// run_sync shows signs of life. The observer travels in the call's context.

type outputKey struct{}

// WithOutput returns a context whose commands (RunBash, RunExpect,
// RunPowershell, RunSync) hand every line they print, stdout and stderr,
// to fn as it comes; fn may be called from several goroutines at once.
func WithOutput(ctx context.Context, fn func(line string)) context.Context {
	return context.WithValue(ctx, outputKey{}, fn)
}

// OutputWriter returns a writer that hands each line written to it to the
// observer of ctx (WithOutput), and the function that hands over the last,
// unfinished line; nil, nil when ctx has no observer.
func OutputWriter(ctx context.Context) (io.Writer, func()) {
	fn, _ := ctx.Value(outputKey{}).(func(string))
	if fn == nil {
		return nil, nil
	}
	w := &lineWriter{fn: fn}
	return w, w.flush
}

// maxPendingLine bounds the bytes a lineWriter holds for a line that has
// not ended: past it the line is handed over as it is.
const maxPendingLine = 4 << 10

// lineWriter splits what is written into lines (ended by \n or \r: a
// progress meter redraws its line with \r) and hands over the non-empty
// ones.
type lineWriter struct {
	mu  sync.Mutex
	fn  func(string)
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range p {
		if b == '\n' || b == '\r' {
			w.emit()
			continue
		}
		w.buf = append(w.buf, b)
		if len(w.buf) >= maxPendingLine {
			w.emit()
		}
	}
	return len(p), nil
}

func (w *lineWriter) emit() {
	if len(w.buf) > 0 {
		w.fn(string(w.buf))
	}
	w.buf = w.buf[:0]
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit()
}
