package build

import (
	"hash"
	"io"
	"sync"
)

// pipeChunk is the size of the pieces a pipeWriter hands on.
const pipeChunk = 64 << 10

// pipeWriter collects what is written into pieces of pipeChunk bytes and
// hands each full piece to a goroutine that adds it to a hash and writes
// it to w, while the next piece is being made: the artifact's base64
// encoding on one core, its sha256 and the file writes on the other. The
// bytes reach w and the hash in the order written. Close hands on the last
// piece and waits. After an error of w, Write and Close return it, and
// nothing more reaches w.
type pipeWriter struct {
	cur  []byte
	full chan []byte
	free chan []byte
	done chan struct{}
	n    int64 // bytes written to w

	mu  sync.Mutex
	err error // w's first error
}

func newPipeWriter(w io.Writer, h hash.Hash) *pipeWriter {
	const pieces = 3 // one being filled, one being written, one waiting
	p := &pipeWriter{full: make(chan []byte, pieces), free: make(chan []byte, pieces), done: make(chan struct{})}
	for i := 0; i < pieces-1; i++ {
		p.free <- make([]byte, 0, pipeChunk)
	}
	p.cur = make([]byte, 0, pipeChunk)
	go func() {
		defer close(p.done)
		for b := range p.full {
			if p.error() == nil {
				h.Write(b)
				n, err := w.Write(b)
				p.n += int64(n)
				if err == nil && n < len(b) {
					err = io.ErrShortWrite
				}
				if err != nil {
					p.mu.Lock()
					p.err = err
					p.mu.Unlock()
				}
			}
			p.free <- b[:0]
		}
	}()
	return p
}

func (p *pipeWriter) error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	if err := p.error(); err != nil {
		return 0, err
	}
	written := len(b)
	for len(b) > 0 {
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b = b[k:]
		if len(p.cur) == cap(p.cur) {
			p.full <- p.cur
			p.cur = <-p.free
		}
	}
	return written, nil
}

// Close hands on what is left, waits until everything is written, and
// returns w's first error. It returns the bytes written to w.
func (p *pipeWriter) Close() (int64, error) {
	if len(p.cur) > 0 {
		p.full <- p.cur
		p.cur = nil
	}
	close(p.full)
	<-p.done
	return p.n, p.error()
}
