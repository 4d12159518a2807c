package store

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func tmpEntries(t *testing.T, s *Store) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.dir, TmpDir))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// A source spool holds small code in memory: an install of code a row
// already uses makes no file at all; new code becomes its blob; code
// beyond SourceSpoolMemory is written to a spool file as it arrives.
func TestSourceSpool(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	small := func(content string) *Spool {
		sp := s.NewSourceSpool()
		if _, err := io.Copy(sp, bytes.NewReader([]byte(content))); err != nil {
			t.Fatal(err)
		}
		if n := len(tmpEntries(t, s)); n != 0 {
			t.Fatalf("a small source spool made %d file(s)", n)
		}
		return sp
	}
	tk, err := s.Install(ctx, "p", small("code"), row("p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := s.BlobPath(tk.SourceSHA256)
	if b, err := os.ReadFile(blob); err != nil || string(b) != "code" {
		t.Fatalf("blob of the new code: %q %v", b, err)
	}
	fsyncs := s.Fsyncs()
	if _, err := s.Install(ctx, "p", small("code"), row("p"), nil); err != nil {
		t.Fatal(err)
	}
	if n := s.Fsyncs() - fsyncs; n != 1 {
		t.Errorf("the install of code in use made %d fsyncs, want 1 (the commit)", n)
	}
	if n := len(tmpEntries(t, s)); n != 0 {
		t.Errorf("%d spool file(s) left", n)
	}

	// What is read back, from memory or from the file a path needs.
	sp := small("zip bytes")
	got := make([]byte, 3)
	if _, err := sp.ReaderAt().ReadAt(got, 4); err != nil || string(got) != "byt" {
		t.Errorf("ReadAt in memory: %q %v", got, err)
	}
	p, err := sp.Path()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "zip bytes" {
		t.Errorf("the spool's file: %q %v", b, err)
	}
	sp.Discard()
	if n := len(tmpEntries(t, s)); n != 0 {
		t.Errorf("%d spool file(s) left after Discard", n)
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), SourceSpoolMemory/16+1)
	sp = s.NewSourceSpool()
	if _, err := sp.Write(big[:SourceSpoolMemory]); err != nil {
		t.Fatal(err)
	}
	if n := len(tmpEntries(t, s)); n != 0 {
		t.Fatalf("%d file(s) for %d bytes", n, SourceSpoolMemory)
	}
	if _, err := sp.Write(big[SourceSpoolMemory:]); err != nil {
		t.Fatal(err)
	}
	if n := len(tmpEntries(t, s)); n != 1 {
		t.Fatalf("%d spool file(s) for code beyond SourceSpoolMemory, want 1", n)
	}
	all := make([]byte, len(big))
	if _, err := sp.ReaderAt().ReadAt(all, 0); err != nil || !bytes.Equal(all, big) || sp.Size() != int64(len(big)) {
		t.Errorf("the spool file holds %d bytes (size %d), not what was written: %v", len(all), sp.Size(), err)
	}
	sp.Discard()
	if n := len(tmpEntries(t, s)); n != 0 {
		t.Errorf("%d spool file(s) left after Discard", n)
	}
}
