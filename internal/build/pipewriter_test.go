package build

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand"
	"testing"
)

// failAfter is a writer that takes n bytes, then fails.
type failAfter struct {
	n   int
	got bytes.Buffer
}

var errFull = errors.New("no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.got.Len()+len(p) > f.n {
		k := f.n - f.got.Len()
		f.got.Write(p[:k])
		return k, errFull
	}
	return f.got.Write(p)
}

// TestPipeWriter: what is written in pieces of every size reaches the
// writer and the hash whole and in order, with the count; a writer that
// fails makes Write (soon) and Close return its error, without blocking.
func TestPipeWriter(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	data := make([]byte, 3*pipeChunk+pipeChunk/3)
	rng.Read(data)
	var out bytes.Buffer
	h := sha256.New()
	pw := newPipeWriter(&out, h)
	for rest := data; len(rest) > 0; {
		k := min(len(rest), 1+rng.Intn(pipeChunk/2))
		if k%5 == 0 {
			k = min(len(rest), pipeChunk+1)
		}
		if n, err := pw.Write(rest[:k]); n != k || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		rest = rest[k:]
	}
	n, err := pw.Close()
	if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("Close: %d, %v; output equal: %v", n, err, bytes.Equal(out.Bytes(), data))
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("the hash is not that of the data")
	}

	fw := &failAfter{n: pipeChunk + 10}
	pw = newPipeWriter(fw, sha256.New())
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		_, werr = pw.Write(data[:pipeChunk/2])
	}
	if _, err := pw.Close(); !errors.Is(err, errFull) {
		t.Errorf("Close after a failed write: %v", err)
	}
	if !errors.Is(werr, errFull) {
		t.Errorf("Write went on after the writer failed (last error %v)", werr)
	}
	if fw.got.Len() != pipeChunk+10 {
		t.Errorf("the writer got %d bytes", fw.got.Len())
	}
}
