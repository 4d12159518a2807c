package engine

import (
	"context"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The data objects of the API (internal/engineapi).
type (
	Environment  = engineapi.Environment
	Repository   = engineapi.Repository
	SourceConfig = engineapi.SourceConfig
	Container    = engineapi.Container
	mountRecord  = engineapi.Mount
	Snapshot     = engineapi.Snapshot
)

// recoverObjects runs at start-up, after the store's recovery: it removes
// the snapshots a crash interrupted (created, never completed) with their
// directories.
func (e *Engine) recoverObjects(ctx context.Context) (int, error) {
	snaps, err := store.ListAs[Snapshot](ctx, e.store, store.KindSnapshot, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range snaps {
		if s.Dir != "" {
			continue
		}
		os.RemoveAll(filepath.Join(e.cfg.DataDir, store.SnapshotsDir, s.Reference))
		if err := e.store.DeleteObject(ctx, store.KindSnapshot, s.Reference); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
