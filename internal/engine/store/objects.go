package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// objectsSQL creates the table of the engine's data objects (environments,
// repositories, source configs, dSources, VDBs, snapshots). Each object is
// a JSON document (the API's representation plus a few internal fields);
// its reference is the kind's prefix and the row id.
const objectsSQL = `
CREATE TABLE IF NOT EXISTS objects (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL,
	name    TEXT NOT NULL,
	parent  TEXT NOT NULL DEFAULT '',
	data    TEXT NOT NULL,
	sealed  TEXT NOT NULL DEFAULT '', -- the secrets masked in data (secrets.go of this package)
	created TEXT NOT NULL,
	updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_kind ON objects(kind, parent, id);
`

// Object kinds (the API contract's, internal/engineapi).
const (
	KindEnvironment  = engineapi.KindEnvironment
	KindRepository   = engineapi.KindRepository
	KindSourceConfig = engineapi.KindSourceConfig
	KindContainer    = engineapi.KindContainer // dSources and VDBs
	KindSnapshot     = engineapi.KindSnapshot
)

// ObjectRef is the reference of the object of the kind with the row id.
func ObjectRef(kind string, id int64) string { return engineapi.Ref(kind, id) }

// ParseObjectRef returns the id of a reference of the kind, or 0.
func ParseObjectRef(kind, ref string) int64 { return engineapi.ParseRef(kind, ref) }

// ErrNameTaken is CreateObject's error when the name is taken.
var ErrNameTaken = errors.New("name taken")

// CreateObject inserts an object: build gets the new reference and returns
// the object (with that reference set) and its name. With unique, another
// object of the kind and parent with that name makes it fail with
// ErrNameTaken.
func (s *Store) CreateObject(ctx context.Context, kind, parent string, unique bool, now time.Time, build func(ref string) (any, string)) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	ts := FormatTime(now)
	res, err := tx.ExecContext(ctx, `INSERT INTO objects(kind, name, parent, data, created, updated) VALUES (?, '', ?, '{}', ?, ?)`, kind, parent, ts, ts)
	if err != nil {
		return "", err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", err
	}
	ref := ObjectRef(kind, id)
	v, name := build(ref)
	if unique {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM objects WHERE kind=? AND parent=? AND name=? AND id<>?`, kind, parent, name, id).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			return "", ErrNameTaken
		}
	}
	data, sealed, err := s.marshalObject(ctx, tx, kind, v)
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE objects SET name=?, data=?, sealed=? WHERE id=?`, name, string(data), sealed, id); err != nil {
		return "", err
	}
	return ref, s.commit(tx)
}

// marshalObject returns an object's stored document (its secrets masked)
// and its sealed secrets.
func (s *Store) marshalObject(ctx context.Context, q querier, kind string, v any) ([]byte, string, error) {
	data, err := json.Marshal(v)
	if err != nil || s.keeper == nil {
		return data, "", err
	}
	masked, sealed, err := s.seal(ctx, q, kind, data)
	if err != nil {
		return nil, "", fmt.Errorf("sealing the secrets of a %s: %w", kind, err)
	}
	masked, err = compact(masked)
	return masked, sealed, err
}

// compact returns a document as it is stored: compact JSON, so that
// answers carry it as it is (read.go, RawDoc).
func compact(doc []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unmarshalObject decodes a stored document into v, its secrets put back.
func (s *Store) unmarshalObject(data, sealed string, v any) error {
	doc := []byte(data)
	if sealed != "" {
		if s.keeper == nil {
			return errors.New("the object has sealed secrets and the store has no key")
		}
		var err error
		if doc, err = s.keeper.Unseal(doc, sealed); err != nil {
			return err
		}
	}
	return json.Unmarshal(doc, v)
}

// PutObject replaces an object's document.
func (s *Store) PutObject(ctx context.Context, kind, ref, name string, v any, now time.Time) error {
	id := ParseObjectRef(kind, ref)
	data, sealed, err := s.marshalObject(ctx, s.rdb, kind, v)
	if err != nil {
		return err
	}
	return s.exec(ctx, `UPDATE objects SET name=?, data=?, sealed=?, updated=? WHERE id=? AND kind=?`, name, string(data), sealed, FormatTime(now), id, kind)
}

// DeleteObject deletes an object.
func (s *Store) DeleteObject(ctx context.Context, kind, ref string) error {
	return s.exec(ctx, `DELETE FROM objects WHERE id=? AND kind=?`, ParseObjectRef(kind, ref), kind)
}

// GetObject decodes the object into v, its secrets put back; found is
// false when there is none.
func (s *Store) GetObject(ctx context.Context, kind, ref string, v any) (bool, error) {
	return s.getStored(ctx, kind, ref, v, true)
}

// getStored is GetObject; without reveal the secrets stay masked (for
// answers).
func (s *Store) getStored(ctx context.Context, kind, ref string, v any, reveal bool) (bool, error) {
	id := ParseObjectRef(kind, ref)
	if id == 0 {
		return false, nil
	}
	var data, sealed string
	err := s.stmts.object.QueryRowContext(ctx, id, kind).Scan(&data, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !reveal {
		sealed = ""
	}
	return true, s.unmarshalObject(data, sealed, v)
}

// FindObject resolves a reference or, failing that, a unique name.
func (s *Store) FindObject(ctx context.Context, kind, refOrName string, v any) (bool, error) {
	return s.FindStored(ctx, kind, refOrName, v, true)
}

// FindStored is FindObject; without reveal the secrets stay masked.
func (s *Store) FindStored(ctx context.Context, kind, refOrName string, v any, reveal bool) (bool, error) {
	if ok, err := s.getStored(ctx, kind, refOrName, v, reveal); ok || err != nil {
		return ok, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT data, sealed FROM objects WHERE kind=? AND name=? ORDER BY id`, kind, refOrName)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var datas [][2]string
	for rows.Next() {
		var d, sealed string
		if err := rows.Scan(&d, &sealed); err != nil {
			return false, err
		}
		datas = append(datas, [2]string{d, sealed})
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	switch len(datas) {
	case 0:
		return false, nil
	case 1:
		if !reveal {
			datas[0][1] = ""
		}
		return true, s.unmarshalObject(datas[0][0], datas[0][1], v)
	}
	return false, fmt.Errorf("%d objects of kind %s are named %q: use a reference", len(datas), kind, refOrName)
}

// ListObjects returns the stored documents of a kind (of a parent when
// parent is not empty), oldest first, as the API serves them: their
// secrets masked.
func (s *Store) ListObjects(ctx context.Context, kind, parent string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := s.scanObjects(ctx, kind, parent, func(data, _ string) error {
		out = append(out, json.RawMessage(data))
		return nil
	})
	return out, err
}

func (s *Store) scanObjects(ctx context.Context, kind, parent string, each func(data, sealed string) error) error {
	q, args := `SELECT data, sealed FROM objects WHERE kind=? ORDER BY id`, []any{kind}
	if parent != "" {
		q, args = `SELECT data, sealed FROM objects WHERE kind=? AND parent=? ORDER BY id`, []any{kind, parent}
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d, sealed string
		if err := rows.Scan(&d, &sealed); err != nil {
			return err
		}
		if err := each(d, sealed); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListAs decodes the objects of a kind into a slice of T, their secrets
// put back (for the engine's own use, never for an answer).
func ListAs[T any](ctx context.Context, s *Store, kind, parent string) ([]T, error) {
	var out []T
	err := s.scanObjects(ctx, kind, parent, func(data, sealed string) error {
		var v T
		if err := s.unmarshalObject(data, sealed, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if out == nil {
		out = []T{}
	}
	return out, err
}

// ObjectKey names an object: its kind and reference.
type ObjectKey struct{ Kind, Ref string }

// DeleteObjects deletes objects in one transaction: all of them, or none
// (a crash in between leaves them all).
func (s *Store) DeleteObjects(ctx context.Context, keys []ObjectKey) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return deleteObjectsTx(ctx, tx, keys) })
}

// deleteObjectsTx deletes objects within tx.
func deleteObjectsTx(ctx context.Context, tx *sql.Tx, keys []ObjectKey) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE id=? AND kind=?`, ParseObjectRef(k.Kind, k.Ref), k.Kind); err != nil {
			return err
		}
	}
	return nil
}
