package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/dvpkit/dvp/internal/artifact"
)

// Toolkit is an installed plugin.
type Toolkit struct {
	ID             int64
	PluginID       string
	Name           string
	BuildNumber    string
	SourceSHA256   string
	SourceSize     int64
	ArtifactSHA256 string
	ArtifactJSON   string
	Installed      string
	Updated        string
}

// Ref is the toolkit's reference (APPDATA_TOOLKIT-n).
func (t *Toolkit) Ref() string { return fmt.Sprintf("APPDATA_TOOLKIT-%d", t.ID) }

// Artifact decodes the stored artifact (without sourceCode).
func (t *Toolkit) Artifact() (*artifact.Artifact, error) {
	a := &artifact.Artifact{}
	if err := json.Unmarshal([]byte(t.ArtifactJSON), a); err != nil {
		return nil, fmt.Errorf("the stored artifact of %s is unreadable: %w", t.Ref(), err)
	}
	return a, nil
}

const toolkitColumns = `id, plugin_id, name, build_number, source_sha256, source_size, artifact_sha256, artifact, installed, updated`

type scanner interface{ Scan(...any) error }

func scanToolkit(r scanner) (*Toolkit, error) {
	t := &Toolkit{}
	err := r.Scan(&t.ID, &t.PluginID, &t.Name, &t.BuildNumber, &t.SourceSHA256, &t.SourceSize, &t.ArtifactSHA256, &t.ArtifactJSON, &t.Installed, &t.Updated)
	return t, err
}

func (s *Store) toolkitByPluginID(ctx context.Context, q querier, pluginID string) (*Toolkit, error) {
	t, err := scanToolkit(q.QueryRowContext(ctx, `SELECT `+toolkitColumns+` FROM toolkits WHERE plugin_id = ?`, pluginID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return t, err
}

// ToolkitByPluginID returns the installed plugin with the id, or nil.
func (s *Store) ToolkitByPluginID(ctx context.Context, pluginID string) (*Toolkit, error) {
	s.toolkits.mu.RLock()
	defer s.toolkits.mu.RUnlock()
	return copyOf(s.toolkits.byPlugin[pluginID]), nil
}

// ToolkitByRef returns the installed plugin with the reference, or nil.
func (s *Store) ToolkitByRef(ctx context.Context, ref string) (*Toolkit, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "APPDATA_TOOLKIT-%d", &id); err != nil || fmt.Sprintf("APPDATA_TOOLKIT-%d", id) != ref {
		return nil, nil
	}
	return s.toolkits.byID(id), nil
}

// toolkitByRefQ reads the installed plugin with the reference through q
// (a transaction sees its own writes), or nil.
func (s *Store) toolkitByRefQ(ctx context.Context, q querier, ref string) (*Toolkit, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "APPDATA_TOOLKIT-%d", &id); err != nil || fmt.Sprintf("APPDATA_TOOLKIT-%d", id) != ref {
		return nil, nil
	}
	t, err := scanToolkit(q.QueryRowContext(ctx, `SELECT `+toolkitColumns+` FROM toolkits WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return t, err
}

// Toolkits returns the installed plugins, oldest first.
func (s *Store) Toolkits(ctx context.Context) ([]*Toolkit, error) {
	s.toolkits.mu.RLock()
	defer s.toolkits.mu.RUnlock()
	out := make([]*Toolkit, len(s.toolkits.rows))
	for i, t := range s.toolkits.rows {
		out[i] = copyOf(t)
	}
	return out, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InstallDecision is what install's decide function returns: the row to
// write, or an error that refuses the installation.
type InstallDecision func(current *Toolkit) (*Toolkit, error)

// Install adopts the source blob and writes the toolkit row in one
// transaction, after decide approved it against the row installed at that
// moment. The blob is durable before the row commits (code a committed row
// uses already is: it is not written again), so a crash leaves
// either the old row (and maybe an orphan blob, removed at the next start)
// or the new row with its blob: never a row without its blob.
//
// The blob is made durable (the spool file synced, renamed to its blob
// name, its directory synced) outside the writer's lock, while the row's
// write waits in the queue; the write joins the first transaction that
// starts once the blob is durable, shared with the writes waiting at that
// moment (group commit, write.go): concurrent uploads do not queue for
// each other's fsyncs, and an upload's own fsyncs overlap its wait for
// the writer. A refused installation removes the blob again unless a row
// or another installation in progress uses it.
func (s *Store) Install(ctx context.Context, pluginID string, source *Spool, decide InstallDecision, apply TxStep) (*Toolkit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sum := s.holdBlob(source)
	durable := make(chan struct{})
	var durableErr error
	go func() {
		defer close(durable)
		if s.inUse(sum) {
			// A committed row uses the same code: its blob was made
			// durable before that row committed, and stays while this
			// installation holds it. The spool is not needed.
			source.drop()
			return
		}
		if durableErr = source.Finish(); durableErr == nil {
			_, durableErr = s.adopt(source)
		}
		if durableErr != nil {
			durableErr = fmt.Errorf("storing the plugin's code: %w", durableErr)
		}
	}()
	var current, row *Toolkit
	err := s.writeWhenReady(ctx, durable, &durableErr, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		// The committed row is in memory; a write earlier in this
		// transaction may have changed it, and then it is read here.
		if s.txToolkits[pluginID] {
			current, err = s.toolkitByPluginID(ctx, tx, pluginID)
		} else {
			current, err = s.ToolkitByPluginID(ctx, pluginID)
		}
		if err != nil {
			return err
		}
		if row, err = decide(current); err != nil {
			return err
		}
		row.SourceSHA256 = sum
		s.txToolkits[pluginID] = true
		if current == nil {
			res, err := tx.StmtContext(ctx, s.wstmts.insertToolkit).ExecContext(ctx, row.PluginID, row.Name, row.BuildNumber, row.SourceSHA256, row.SourceSize, row.ArtifactSHA256, row.ArtifactJSON, row.Installed, row.Updated)
			if err != nil {
				return err
			}
			if row.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			row.ID, row.Installed = current.ID, current.Installed
			if _, err := tx.StmtContext(ctx, s.wstmts.updateToolkit).ExecContext(ctx,
				row.Name, row.BuildNumber, row.SourceSHA256, row.SourceSize, row.ArtifactSHA256, row.ArtifactJSON, row.Updated, row.ID); err != nil {
				return err
			}
		}
		if apply != nil {
			return apply.inTx(ctx, tx)
		}
		return nil
	}, func() { s.toolkits.put(row) })
	<-durable // closed already, unless the write did not wait (ctx ended)
	s.adopted(sum)
	if err != nil {
		s.removeBlobIfUnused(ctx, sum)
		return nil, err
	}
	if current != nil && current.SourceSHA256 != row.SourceSHA256 {
		// The replaced code is no longer reachable; without this a
		// long-running engine keeps every build it ever installed.
		if err := s.removeBlobIfUnused(ctx, current.SourceSHA256); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// DeleteToolkit removes a toolkit row, and the objects also in the same
// transaction; its blob is removed too when no other row shares it.
func (s *Store) DeleteToolkit(ctx context.Context, t *Toolkit, also ...ObjectKey) error {
	err := s.writeThen(ctx, func(ctx context.Context, tx *sql.Tx) error {
		s.txToolkits[t.PluginID] = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM toolkits WHERE id = ?`, t.ID); err != nil {
			return err
		}
		return deleteObjectsTx(ctx, tx, also)
	}, func() { s.toolkits.remove(t.ID) })
	if err != nil {
		return err
	}
	return s.removeBlobIfUnused(ctx, t.SourceSHA256)
}

// inUse reports whether a committed toolkit row refers to the blob sum.
func (s *Store) inUse(sum string) bool {
	s.toolkits.mu.RLock()
	defer s.toolkits.mu.RUnlock()
	return s.toolkits.bySource[sum] > 0
}

// removeBlobIfUnused deletes the code blob sum when no toolkit row refers
// to it any more and no installation in progress adopted it. A crash
// before the removal leaves an orphan, which the next start removes.
func (s *Store) removeBlobIfUnused(ctx context.Context, sum string) error {
	s.blobs.mu.Lock()
	defer s.blobs.mu.Unlock()
	if s.blobs.pending[sum] > 0 {
		return nil
	}
	s.toolkits.mu.RLock()
	n := s.toolkits.bySource[sum]
	s.toolkits.mu.RUnlock()
	if n == 0 {
		if p, err := s.BlobPath(sum); err == nil {
			os.Remove(p)
		}
	}
	return nil
}

// pendingBlobs counts, per blob, the installations that adopted it and
// have not committed or given up yet: their blob must stay.
type pendingBlobs struct {
	mu      sync.Mutex
	pending map[string]int
}

// holdBlob counts an installation in progress of the spool's code, whose
// blob no removal may take until adopted ends the hold; it returns the
// blob's name (sha256).
func (s *Store) holdBlob(sp *Spool) string {
	sum := sp.Sum()
	s.blobs.mu.Lock()
	if s.blobs.pending == nil {
		s.blobs.pending = map[string]int{}
	}
	s.blobs.pending[sum]++
	s.blobs.mu.Unlock()
	return sum
}

// adopted ends an installation's hold on its blob.
func (s *Store) adopted(sum string) {
	s.blobs.mu.Lock()
	if s.blobs.pending[sum]--; s.blobs.pending[sum] <= 0 {
		delete(s.blobs.pending, sum)
	}
	s.blobs.mu.Unlock()
}
