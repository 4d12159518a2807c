package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// StoredObject is an object row as stored, and its document with its
// secrets put back.
type StoredObject struct {
	ID           int64
	Kind         string
	Data, Sealed string // as stored, to detect a change before commit
	Doc          []byte // Data with the secrets put back
}

// ToolkitObjects returns the stored objects of a plugin, oldest first.
func (s *Store) ToolkitObjects(ctx context.Context, toolkitRef string) ([]StoredObject, error) {
	return s.toolkitObjects(ctx, s.rdb, toolkitRef)
}

// rowsQuerier is what toolkitObjects reads through: the database, or a
// transaction.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CheckToolkitObjects is a TxStep that reads the plugin's stored
// objects inside Install's transaction (after the migrated documents an
// earlier TxStep wrote) and hands them to check; an error of check
// refuses the installation, and nothing changes.
func (s *Store) CheckToolkitObjects(toolkitRef string, check func(objects []StoredObject) error) TxStep {
	return func(ctx context.Context, tx *Tx) error {
		objs, err := s.toolkitObjects(ctx, tx.tx, toolkitRef)
		if err != nil {
			return err
		}
		return check(objs)
	}
}

// Chain is a TxStep that runs applies in order (nil ones skipped).
func Chain(applies ...TxStep) TxStep {
	return func(ctx context.Context, tx *Tx) error {
		for _, a := range applies {
			if a == nil {
				continue
			}
			if err := a(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}
}

func (s *Store) toolkitObjects(ctx context.Context, q rowsQuerier, toolkitRef string) ([]StoredObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, data, sealed FROM objects ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredObject
	for rows.Next() {
		var o StoredObject
		if err := rows.Scan(&o.ID, &o.Kind, &o.Data, &o.Sealed); err != nil {
			return nil, err
		}
		var head struct {
			Toolkit string `json:"toolkit"`
		}
		if json.Unmarshal([]byte(o.Data), &head) != nil || head.Toolkit != toolkitRef {
			continue
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		o := &out[i]
		o.Doc = []byte(o.Data)
		if o.Sealed != "" {
			if o.Doc, err = s.keeper.Unseal(o.Doc, o.Sealed); err != nil {
				return nil, fmt.Errorf("%s: %w", ObjectRef(o.Kind, o.ID), err)
			}
		}
	}
	return out, nil
}

// ChangedError is ApplyMigrated's error when the plugin's objects changed
// after they were read.
type ChangedError struct{ What string }

func (e *ChangedError) Error() string { return e.What + " while the migrations ran" }

// ApplyMigrated stores migrated documents (newDocs, by row id) of the
// plugin toolkit in Install's transaction, after the new toolkit row (so
// they are sealed under the new schemas). objects are the plugin's objects
// as ToolkitObjects read them: when any of them changed since, or objects
// of the plugin were created or deleted, it fails with a *ChangedError.
func (s *Store) ApplyMigrated(toolkit string, objects []StoredObject, newDocs map[int64][]byte) TxStep {
	return func(ctx context.Context, t *Tx) error {
		tx := t.tx
		conflict := func(what string) error { return &ChangedError{What: what} }
		rows, err := tx.QueryContext(ctx, `SELECT id, data FROM objects ORDER BY id`)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id int64
			var data string
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return err
			}
			var head struct {
				Toolkit string `json:"toolkit"`
			}
			if json.Unmarshal([]byte(data), &head) == nil && head.Toolkit == toolkit {
				n++
			}
		}
		rows.Close()
		if n != len(objects) {
			return conflict(fmt.Sprintf("Objects of the plugin were created or deleted (%d, now %d)", len(objects), n))
		}
		for _, o := range objects {
			var data, sealed string
			err := tx.QueryRowContext(ctx, `SELECT data, sealed FROM objects WHERE id=?`, o.ID).Scan(&data, &sealed)
			if err != nil || data != o.Data || sealed != o.Sealed {
				return conflict(ObjectRef(o.Kind, o.ID) + " changed")
			}
			doc, ok := newDocs[o.ID]
			if !ok {
				continue
			}
			masked, sealedNew, err := s.seal(ctx, tx, o.Kind, doc)
			if err != nil {
				return err
			}
			if masked, err = compact(masked); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE objects SET data=?, sealed=? WHERE id=?`, string(masked), sealedNew, o.ID); err != nil {
				return err
			}
		}
		return nil
	}
}
