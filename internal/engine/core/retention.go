package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// retain applies the container's retention after a sync or snapshot:
// with --keep-snapshots N it deletes its oldest complete snapshots beyond
// the newest N, except those a VDB depends on (provisioned, refreshed or
// rolled back from them), and records what it deleted or kept in the job.
// A failure here does not fail the job: the new snapshot exists.
func (w *wf) retain(ctx context.Context) {
	row, err := w.e.store.PolicyOf(ctx, w.c.Reference)
	if err != nil || row == nil || row.Keep <= 0 {
		return
	}
	warn := func(format string, args ...any) {
		w.j.Event("event.retention.failed", fmt.Sprintf(format, args...), nil, "WARNING", "RUNNING")
	}
	all, err := store.ListAs[engineapi.Snapshot](ctx, w.e.store, store.KindSnapshot, w.c.Reference)
	if err != nil {
		warn("Retention did not run: %v.", err)
		return
	}
	var snaps []engineapi.Snapshot
	for _, s := range all {
		if s.Dir != "" { // complete (one being taken has no directory yet)
			snaps = append(snaps, s)
		}
	}
	if len(snaps) <= row.Keep {
		return
	}
	containers, err := store.ListAs[engineapi.Container](ctx, w.e.store, store.KindContainer, "")
	if err != nil {
		warn("Retention did not run: %v.", err)
		return
	}
	users := map[string][]string{} // snapshot -> the VDBs that depend on it
	for _, c := range containers {
		if c.ParentSnapshot != "" {
			users[c.ParentSnapshot] = append(users[c.ParentSnapshot], c.Name)
		}
	}
	var deleted, kept []string
	for _, s := range snaps[:len(snaps)-row.Keep] { // oldest first
		if vdbs := users[s.Reference]; len(vdbs) > 0 {
			kept = append(kept, s.Reference)
			w.j.Info("event.retention.kept", fmt.Sprintf("Kept snapshot %s (%s), older than the newest %d: the VDB(s) %s depend on it.",
				s.Reference, s.Timestamp, row.Keep, strings.Join(vdbs, ", ")))
			continue
		}
		// The row first: a crash then leaves a directory no object refers
		// to (the next start removes it), never a snapshot without data.
		if err := w.e.store.DeleteObject(ctx, store.KindSnapshot, s.Reference); err != nil {
			warn("Could not delete snapshot %s: %v.", s.Reference, err)
			continue
		}
		os.RemoveAll(filepath.Join(w.e.cfg.DataDir, store.SnapshotsDir, s.Reference))
		deleted = append(deleted, s.Reference)
		w.j.Info("event.retention.deleted", fmt.Sprintf("Deleted snapshot %s (%s): %s keeps its newest %d.", s.Reference, s.Timestamp, w.c.Name, row.Keep))
	}
	w.j.Info("event.retention", fmt.Sprintf("Retention of %s (keep %d): %d snapshot(s) deleted, %d kept for VDBs, %d kept in all.",
		w.c.Name, row.Keep, len(deleted), len(kept), len(snaps)-len(deleted)))
}
