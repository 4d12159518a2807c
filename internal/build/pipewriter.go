package build

import (
	"encoding/base64"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// pipeChunk is the size of the pieces a pipeWriter hands on.
const pipeChunk = 64 << 10

// pipePieces is how many pieces a pipeWriter has: one being filled, the
// others being hashed and written.
const pipePieces = 3

// pipeWriter collects what is written into pieces of pipeChunk bytes and
// hands each full piece to two goroutines, one that adds it to a hash and
// one that writes it to w, while the next piece is being made: the
// artifact's base64 encoding, its sha256 and the file writes each on a
// core of their own when there is one (its sha256 and its writes, one
// after the other on one goroutine, took longer than its encoding). The
// bytes reach w and the hash in the order written. Close hands on the
// last piece and waits. After an error of w, Write and Close return it,
// and nothing more reaches w.
type pipeWriter struct {
	cur    *pipePiece // being filled
	toHash chan *pipePiece
	toFile chan *pipePiece
	free   chan *pipePiece
	bufs   [][]byte // the pieces' buffers, given back by Close
	wg     sync.WaitGroup
	n      int64 // bytes written to w

	mu  sync.Mutex
	err error // w's first error
}

// pipePiece is a piece handed on: it is free again when both its hash
// and its write are done.
type pipePiece struct {
	b    []byte
	left atomic.Int32
}

func newPipeWriter(w io.Writer, h hash.Hash) *pipeWriter {
	p := &pipeWriter{
		toHash: make(chan *pipePiece, pipePieces),
		toFile: make(chan *pipePiece, pipePieces),
		free:   make(chan *pipePiece, pipePieces),
		bufs:   takePipeBuffers(),
	}
	for _, b := range p.bufs[1:] {
		p.free <- &pipePiece{b: b[:0]}
	}
	p.cur = &pipePiece{b: p.bufs[0][:0]}
	done := func(pc *pipePiece) {
		if pc.left.Add(-1) == 0 {
			pc.b = pc.b[:0]
			p.free <- pc
		}
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for pc := range p.toHash {
			h.Write(pc.b)
			done(pc)
		}
	}()
	go func() {
		defer p.wg.Done()
		for pc := range p.toFile {
			if p.error() == nil {
				n, err := w.Write(pc.b)
				p.n += int64(n)
				if err == nil && n < len(pc.b) {
					err = io.ErrShortWrite
				}
				if err != nil {
					p.mu.Lock()
					p.err = err
					p.mu.Unlock()
				}
			}
			done(pc)
		}
	}()
	return p
}

func (p *pipeWriter) error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// handOn gives the current piece to the hash and the file.
func (p *pipeWriter) handOn() {
	pc := p.cur
	p.cur = nil
	pc.left.Store(2)
	p.toHash <- pc
	p.toFile <- pc
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	if err := p.error(); err != nil {
		return 0, err
	}
	written := len(b)
	for len(b) > 0 {
		cur := p.cur.b
		k := copy(cur[len(cur):cap(cur)], b)
		p.cur.b = cur[:len(cur)+k]
		b = b[k:]
		if len(p.cur.b) == cap(p.cur.b) {
			p.handOn()
			p.cur = <-p.free
		}
	}
	return written, nil
}

// Close hands on what is left, waits until everything is hashed and
// written, and returns w's first error. It returns the bytes written to w.
func (p *pipeWriter) Close() (int64, error) {
	if p.cur != nil && len(p.cur.b) > 0 {
		p.handOn()
	}
	close(p.toHash)
	close(p.toFile)
	p.wg.Wait()
	givePipeBuffers(p.bufs)
	p.bufs = nil
	return p.n, p.error()
}

// pipeBuffers are the buffers of the last pipeWriter, kept for the next
// one, and made ahead by warmPipeBuffers: fresh memory costs a page fault
// per page when first written (~14 us each on the development machine,
// 48 for a pipeWriter's buffers), which the build takes while go build
// runs instead of when the artifact is written after it.
var pipeBuffers struct {
	sync.Mutex
	bufs [][]byte
}

func takePipeBuffers() [][]byte {
	pb := &pipeBuffers
	pb.Lock()
	bufs := pb.bufs
	pb.bufs = nil
	pb.Unlock()
	if bufs == nil {
		bufs = make([][]byte, pipePieces)
		for i := range bufs {
			bufs[i] = make([]byte, 0, pipeChunk)
		}
	}
	return bufs
}

func givePipeBuffers(bufs [][]byte) {
	pb := &pipeBuffers
	pb.Lock()
	pb.bufs = bufs
	pb.Unlock()
}

// warmPipeBuffers makes the next pipeWriter's buffers, if there are none,
// and writes to each of their pages.
func warmPipeBuffers() {
	bufs := takePipeBuffers()
	for _, b := range bufs {
		b = b[:cap(b)]
		for i := 0; i < len(b); i += 4096 {
			b[i] = 0
		}
	}
	givePipeBuffers(bufs)
}

// room returns the free space of the current piece, at least 4 bytes
// (a full piece is handed on first); commit(n) takes n bytes of it as
// written.
func (p *pipeWriter) room() []byte {
	if cap(p.cur.b)-len(p.cur.b) < 4 {
		p.handOn()
		p.cur = <-p.free
	}
	return p.cur.b[len(p.cur.b):cap(p.cur.b)]
}

func (p *pipeWriter) commit(n int) {
	p.cur.b = p.cur.b[:len(p.cur.b)+n]
	if len(p.cur.b) == cap(p.cur.b) {
		p.handOn()
		p.cur = <-p.free
	}
}

// base64Writer writes what is written to it to a pipeWriter in
// base64.StdEncoding (padded on Close), encoded straight into the
// pipeWriter's pieces by encoding/base64's Encode: the artifact is mostly
// the base64 of the binary, and encoding/base64's streaming encoder, three
// bytes at a time into a buffer of its own that is then copied, took ~5 ms
// of a build's critical path for the scaffold's binary.
type base64Writer struct {
	p    *pipeWriter
	rest [3]byte // bytes of a group not complete yet
	n    int     // how many
}

func (e *base64Writer) Write(b []byte) (int, error) {
	if err := e.p.error(); err != nil {
		return 0, err
	}
	written := len(b)
	if e.n > 0 {
		k := copy(e.rest[e.n:], b)
		e.n += k
		b = b[k:]
		if e.n < 3 {
			return written, nil
		}
		var q [4]byte
		base64.StdEncoding.Encode(q[:], e.rest[:])
		e.p.Write(q[:])
		e.n = 0
	}
	for len(b) >= 3 {
		dst := e.p.room()
		groups := min(len(b)/3, len(dst)/4)
		base64.StdEncoding.Encode(dst, b[:3*groups])
		e.p.commit(4 * groups)
		b = b[3*groups:]
	}
	e.n = copy(e.rest[:], b)
	return written, e.p.error()
}

// Close writes the last group, padded.
func (e *base64Writer) Close() error {
	if e.n > 0 {
		var q [4]byte
		base64.StdEncoding.Encode(q[:], e.rest[:e.n])
		e.p.Write(q[:])
		e.n = 0
	}
	return e.p.error()
}
