// Package testio holds what the tests of several packages share to watch
// a process or a goroutine write while the test reads: Buffer. Only tests
// import it.
package testio

import (
	"bytes"
	"sync"
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
