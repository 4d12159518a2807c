package fsutil

import "os"

// writeBackChunk is how much is written to a file before its writing to
// the disk is started (startWriteBack).
const writeBackChunk = 1 << 20

// writeBack writes to f and, after every writeBackChunk bytes, starts the
// writing of those bytes to the disk without waiting for it: the sync
// that follows a large write then finds most of the data on the disk
// already, instead of starting it all at once.
type writeBack struct {
	f       *os.File
	written int64 // bytes written
	started int64 // bytes whose writing to the disk was started
}

func (w *writeBack) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.started >= writeBackChunk {
		startWriteBack(w.f, w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}
