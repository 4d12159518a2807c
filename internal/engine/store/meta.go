package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// EngineID returns the id of the engine whose database this is: 12 random
// hex digits made on the first call and kept in the database, so that two
// engines on one machine (two data directories) never name a directory
// outside their data directories the same (the scratch paths of their
// environments, docs/engine.md "Local environments and their OS user").
func (s *Store) EngineID(ctx context.Context) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if err := s.exec(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES ('engine_id', ?)`, hex.EncodeToString(b[:])); err != nil {
		return "", err
	}
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'engine_id'`).Scan(&id); err != nil {
		return "", err
	}
	if !validEngineID(id) {
		return "", fmt.Errorf("the engine id %q in %s is not 12 hex digits: the database was changed by hand", id, DBFile)
	}
	return id, nil
}

// validEngineID says whether id has the shape of an engine id: a path
// component that needs no quoting anywhere.
func validEngineID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
