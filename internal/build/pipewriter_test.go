package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
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

// TestBase64Writer: base64Writer writes what encoding/base64's
// StdEncoding writes, for every length from 0 to a few pieces and
// writes of every size (single bytes, pieces that split a group, more
// than a pipe piece at once).
func TestBase64Writer(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	data := make([]byte, 2*pipeChunk+pipeChunk/2+5)
	rng.Read(data)
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 100, 3 * pipeChunk / 4, 3*pipeChunk/4 + 1, len(data)} {
		for _, maxWrite := range []int{1, 2, 7, 4096, 2 * pipeChunk} {
			src := data[:n]
			var out bytes.Buffer
			h := sha256.New()
			pw := newPipeWriter(&out, h)
			enc := &base64Writer{p: pw}
			for rest := src; len(rest) > 0; {
				k := min(len(rest), 1+rng.Intn(maxWrite))
				if w, err := enc.Write(rest[:k]); w != k || err != nil {
					t.Fatalf("Write: %d, %v", w, err)
				}
				rest = rest[k:]
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			if want := base64.StdEncoding.EncodeToString(src); out.String() != want {
				t.Fatalf("%d bytes in writes of up to %d: the encoding differs from encoding/base64's", n, maxWrite)
			}
			if want := sha256.Sum256(out.Bytes()); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("%d bytes: the hash is not that of the output", n)
			}
		}
	}
}
