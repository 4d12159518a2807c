package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWriteWaitsForReadyAlone checks writes that may only commit once
// ready (an upload's code durable): one not ready waits in the queue
// without holding up the writes behind it, commits once ready, and one
// whose readiness failed is not written and gets the failure.
func TestWriteWaitsForReadyAlone(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	insert := func(k string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, 'v')`, k)
			return err
		}
	}
	has := func(k string) bool {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM meta WHERE key = ?`, k).Scan(&n)
		return n == 1
	}
	ready := make(chan struct{})
	var readyErr error
	slow := make(chan error, 1)
	go func() { slow <- s.writeWhenReady(ctx, ready, &readyErr, insert("slow"), nil) }()
	// Behind it in the queue (or leading the writer): written at once.
	queued := func() bool {
		s.batch.mu.Lock()
		defer s.batch.mu.Unlock()
		return len(s.batch.pending) > 0
	}
	for i := 0; i < 1000 && !queued(); i++ {
		time.Sleep(time.Millisecond)
	}
	if err := s.write(ctx, insert("quick")); err != nil {
		t.Fatal(err)
	}
	if !has("quick") || has("slow") {
		t.Fatalf("quick written %v, slow written %v: want the quick one alone", has("quick"), has("slow"))
	}
	select {
	case err := <-slow:
		t.Fatalf("the write not ready returned: %v", err)
	default:
	}
	close(ready)
	if err := <-slow; err != nil || !has("slow") {
		t.Fatalf("once ready: %v, written %v", err, has("slow"))
	}

	// A readiness that failed: not written, its error returned.
	failed := make(chan struct{})
	failure := errors.New("the code could not be stored")
	go func() { readyErr = failure; close(failed) }()
	if err := s.writeWhenReady(ctx, failed, &readyErr, insert("failed"), nil); !errors.Is(err, failure) || has("failed") {
		t.Fatalf("failed readiness: %v, written %v", err, has("failed"))
	}
}

// TestInstallFailsWhenTheCodeCannotBeStored: the spool's sync fails (its
// file closed under it): nothing is installed, the error says so, and no
// blob stays.
func TestInstallFailsWhenTheCodeCannotBeStored(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sp := spoolOf(t, s, "code")
	sp.Close()
	_, err = s.Install(context.Background(), "p", sp, row("p"), nil)
	if err == nil || !strings.Contains(err.Error(), "storing the plugin's code") {
		t.Fatalf("Install: %v", err)
	}
	if tk, _ := s.ToolkitByPluginID(context.Background(), "p"); tk != nil {
		t.Errorf("installed: %+v", tk)
	}
	if p, _ := s.BlobPath(sp.Sum()); fileExists(p) {
		t.Errorf("blob %s left", p)
	}
	sp.Discard()
}

// TestInstallOfCodeInUseSyncsNothingNew: code a committed row uses is
// durable already: installing it again (an upgrade that changes only the
// build number) makes the commit alone, leaves no spool, and the blob
// stays.
func TestInstallOfCodeInUseSyncsNothingNew(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Install(ctx, "p", spoolOf(t, s, "same code"), row("p"), nil); err != nil {
		t.Fatal(err)
	}
	fsyncs := s.Fsyncs()
	sp := spoolOf(t, s, "same code")
	spool, err := sp.Path()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.Install(ctx, "p", sp, row("p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Fsyncs() - fsyncs; n != 1 {
		t.Errorf("the second install of the same code made %d fsyncs, want 1 (the commit)", n)
	}
	if fileExists(spool) {
		t.Errorf("spool %s left", spool)
	}
	if p, _ := s.BlobPath(tk.SourceSHA256); !fileExists(p) {
		t.Errorf("blob %s missing", p)
	}
}
