// Package store is the local engine's persistent state in its data
// directory: an SQLite database (users, installed plugins, actions, jobs
// and their events, data objects) and a content-addressed directory of
// blobs (the plugins' code), with the spool files uploads are written to
// and the recovery that runs at start-up. Secrets in stored objects are
// sealed by the secrets package's keeper as they are written.
//
// The store knows rows and documents, not workflows: the core package
// decides what to store, the api package never calls it directly.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// Layout of the data directory (docs/engine.md, "Storage").
const (
	DBFile        = "engine.db"
	BlobsDir      = "blobs"
	TmpDir        = "tmp"
	PluginLogsDir = "plugin-logs"
	PluginWorkDir = "plugin-work" // plugin-work/<plugin id>: a plugin process's working directory and TMPDIR
	LockFile      = "engine.lock"
	PluginBinDir  = "plugin-bin" // plugin-bin/<code sha256>/: extracted plugin executables
	StorageDir    = "storage"    // storage/<container ref>/data: a container's live data
	SnapshotsDir  = "snapshots"  // snapshots/<snapshot ref>/data: an independent copy
)

// schemaSQL creates the engine's tables. Version 1.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	name    TEXT NOT NULL UNIQUE,
	hash    TEXT NOT NULL,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS toolkits (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	plugin_id       TEXT NOT NULL UNIQUE,
	name            TEXT NOT NULL,
	build_number    TEXT NOT NULL,
	source_sha256   TEXT NOT NULL,
	source_size     INTEGER NOT NULL,
	artifact_sha256 TEXT NOT NULL,
	artifact        TEXT NOT NULL, -- the artifact's JSON without sourceCode
	installed       TEXT NOT NULL,
	updated         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	action_type         TEXT NOT NULL,
	title               TEXT NOT NULL,
	details             TEXT NOT NULL,
	state               TEXT NOT NULL,
	user_ref            TEXT NOT NULL,
	start_time          TEXT NOT NULL,
	end_time            TEXT,
	failure_description TEXT,
	failure_action      TEXT,
	failure_code        TEXT,
	job_id              INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	action_id   INTEGER NOT NULL,
	action_type TEXT NOT NULL,
	title       TEXT NOT NULL,
	target      TEXT,
	target_name TEXT,
	state       TEXT NOT NULL,
	percent     REAL NOT NULL DEFAULT 0,
	user_ref    TEXT NOT NULL,
	start_time  TEXT NOT NULL,
	update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	job_id       INTEGER NOT NULL REFERENCES jobs(id),
	timestamp    TEXT NOT NULL,
	message_code TEXT NOT NULL,
	details      TEXT NOT NULL,
	action       TEXT,
	event_type   TEXT NOT NULL,
	percent      REAL NOT NULL,
	state        TEXT
);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events(job_id, id);
`

// Store is the engine's persistent state: an SQLite database for rows and
// a content-addressed directory for blobs. Writers are serialized by mu and
// share one connection (db); reads go through a small pool of read-only
// connections (rdb), which in WAL mode see every committed write and never
// wait for a writer's commit (docs/engine.md, "Storage").
type Store struct {
	dir string
	db  *sql.DB    // the writer's connection
	rdb *sql.DB    // read-only connections
	mu  sync.Mutex // serializes writes (and blob adoption with them)
	// stmts are the hot reads, prepared once (read.go).
	stmts readStmts
	// commits counts the database transactions that committed (each one
	// an fsync of the write-ahead log); Commits reads it. syncs counts the
	// fsyncs of files and directories (Fsyncs).
	commits atomic.Int64
	syncs   atomic.Int64
	wstats  writeStats // WriteStats
	// batch gathers the small writes of concurrent callers into one
	// transaction (write.go).
	batch batcher
	// toolkits holds the installed plugins' rows (read.go); txToolkits
	// are the plugin ids whose rows the transaction being written has
	// written (by the writer, under mu).
	toolkits   toolkitCache
	txToolkits map[string]bool
	// wstmts are the hot writes, prepared (write.go).
	wstmts writeStmts
	// blobs counts the installations in progress per code blob.
	blobs pendingBlobs
	// evFirst and evLast bound one job's events (KeepJobEvents).
	evFirst, evLast int64
	// keeper seals the secrets of stored objects; nil stores them as they
	// are (only tests of the store alone).
	keeper  *secrets.Keeper
	schemas sync.Map // artifact sha256 -> *schema.Schema (PluginSchema)
}

// Open opens (creating if needed) the store in the data directory dir;
// keeper seals the secrets of the objects it stores.
func Open(dir string, keeper *secrets.Keeper) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, BlobsDir, "sha256"), filepath.Join(dir, TmpDir), filepath.Join(dir, PluginLogsDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// SQLite creates the database, its WAL and shared-memory files with
	// the mode of the database file: private from the start.
	f, err := os.OpenFile(filepath.Join(dir, DBFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	dsn := "file:" + filepath.Join(dir, DBFile) +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &Store{dir: dir, db: db, keeper: keeper, txToolkits: map[string]bool{}, batch: batcher{wake: make(chan struct{}, 1)}}
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the database schema in %s: %w", filepath.Join(dir, DBFile), err)
	}
	if _, err := db.Exec(objectsSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the object tables in %s: %w", filepath.Join(dir, DBFile), err)
	}
	if _, err := db.Exec(policiesSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the policy table in %s: %w", filepath.Join(dir, DBFile), err)
	}
	if err := addColumn(db, "objects", "sealed", `TEXT NOT NULL DEFAULT ''`); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrading the object table in %s: %w", filepath.Join(dir, DBFile), err)
	}
	if err := numberEvents(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrading the job event table in %s: %w", filepath.Join(dir, DBFile), err)
	}
	if _, err := db.Exec(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1')`); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.openWriteStmts(); err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing the writes of %s: %w", filepath.Join(dir, DBFile), err)
	}
	if err := s.toolkits.load(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the installed plugins from %s: %w", filepath.Join(dir, DBFile), err)
	}
	if err := makeFanOut(filepath.Join(dir, BlobsDir, "sha256")); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the blob directories in %s: %w", filepath.Join(dir, BlobsDir), err)
	}
	if err := s.openReaders(filepath.Join(dir, DBFile)); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the read connections of %s: %w", filepath.Join(dir, DBFile), err)
	}
	return s, nil
}

// makeFanOut creates the 256 directories blobs are stored in (their
// name's first two hex digits) that do not exist yet, and syncs their
// parent once when it made any: adopting a blob then never creates a
// directory, and makes its name durable with one directory sync.
func makeFanOut(root string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.Name()] = true
	}
	made := false
	for i := 0; i < 256; i++ {
		name := fmt.Sprintf("%02x", i)
		if have[name] {
			continue
		}
		if err := os.Mkdir(filepath.Join(root, name), 0o700); err != nil && !os.IsExist(err) {
			return err
		}
		made = true
	}
	if !made {
		return nil
	}
	return fsutil.SyncDir(root)
}

// PluginLogDir is the directory of a plugin's logs in a data directory:
// every regular file in it goes into the plugin's log bundle. The plugin
// runner appends the plugin's own log lines there.
func PluginLogDir(dataDir, pluginID string) (string, error) {
	if !artifact.PluginIDPattern().MatchString(pluginID) {
		return "", fmt.Errorf("invalid plugin id %q", pluginID)
	}
	return filepath.Join(dataDir, PluginLogsDir, strings.ToLower(pluginID)), nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.close()
	s.wstmts.close()
	if s.rdb != nil {
		s.rdb.Close()
	}
	return s.db.Close()
}

// numberEvents gives job events their number in their job (seq, from 1),
// indexed, so that a poll for the events after the first N reads only
// those (JobSince); the events of an older engine's database are numbered
// once, in the order they were written.
func numberEvents(db *sql.DB) error {
	if err := addColumn(db, "job_events", "seq", `INTEGER`); err != nil {
		return err
	}
	if _, err := db.Exec(`CREATE INDEX IF NOT EXISTS job_events_seq ON job_events(job_id, seq)`); err != nil {
		return err
	}
	_, err := db.Exec(`UPDATE job_events SET seq = r.n
		FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY id) AS n FROM job_events) AS r
		WHERE job_events.id = r.id AND job_events.seq IS NULL`)
	return err
}

// addColumn adds a column that an older engine's database lacks.
func addColumn(db *sql.DB, table, column, decl string) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if name == column {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	_, err = db.Exec(`ALTER TABLE ` + table + ` ADD COLUMN ` + column + ` ` + decl)
	return err
}

// emptyTmp removes what is in the engine's tmp directory without ever
// following a link: a link at tmp itself is removed (not what it points
// to) and tmp made again; the entries are removed through a descriptor of
// the directory (os.Root), so a link in it is removed as a link.
func emptyTmp(tmp string) (int, error) {
	fi, err := os.Lstat(tmp)
	if err == nil && !fi.IsDir() {
		if err := os.Remove(tmp); err != nil {
			return 0, err
		}
	}
	if err != nil || !fi.IsDir() {
		if err := os.Mkdir(tmp, 0o700); err != nil && !os.IsExist(err) {
			return 0, err
		}
		if fi, err = os.Lstat(tmp); err != nil {
			return 0, err
		}
		if !fi.IsDir() {
			return 0, fmt.Errorf("%s is not a directory", tmp)
		}
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	if st, err := root.Stat("."); err != nil || !os.SameFile(st, fi) {
		return 0, fmt.Errorf("%s changed while the engine opened it", tmp)
	}
	dir, err := root.Open(".")
	if err != nil {
		return 0, err
	}
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if root.RemoveAll(e.Name()) == nil {
			n++
		}
	}
	return n, nil
}

// Recover runs at start-up: it empties the Spool directory (uploads cut
// short by a crash), marks the jobs and actions that were running as
// failed, and removes blobs no row refers to (written before a crash
// stopped their row from committing).
func (s *Store) Recover(now time.Time) (removedTmp, removedBlobs int, err error) {
	if removedTmp, err = emptyTmp(filepath.Join(s.dir, TmpDir)); err != nil {
		return removedTmp, 0, err
	}
	ts := FormatTime(now)
	const stopped = "The engine stopped while this ran."
	if _, err := s.db.Exec(`UPDATE actions SET state='FAILED', end_time=?, failure_description=?, failure_action=CASE WHEN action_type LIKE 'TOOLKIT%' THEN 'Upload the plugin again.' ELSE 'Run the operation again.' END, failure_code='exception.engine.restarted' WHERE state='RUNNING'`, ts, stopped); err != nil {
		return removedTmp, 0, err
	}
	if _, err := s.db.Exec(`UPDATE jobs SET state='FAILED', update_time=? WHERE state='RUNNING'`, ts); err != nil {
		return removedTmp, 0, err
	}
	referenced := map[string]bool{}
	rows, err := s.db.Query(`SELECT source_sha256 FROM toolkits`)
	if err != nil {
		return removedTmp, 0, err
	}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return removedTmp, 0, err
		}
		referenced[h] = true
	}
	rows.Close()
	root := filepath.Join(s.dir, BlobsDir, "sha256")
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !referenced[d.Name()] {
			if os.Remove(p) == nil {
				removedBlobs++
			}
		}
		return nil
	})
	return removedTmp, removedBlobs, err
}

var sha256Hex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// BlobPath is where the blob with the given sha256 lives.
func (s *Store) BlobPath(sum string) (string, error) {
	if !sha256Hex().MatchString(sum) {
		return "", fmt.Errorf("invalid blob name %q", sum)
	}
	return filepath.Join(s.dir, BlobsDir, "sha256", sum[:2], sum), nil
}

// OpenBlob opens a blob and checks, as it is read to the end, that its
// content still has its name's hash.
func (s *Store) OpenBlob(sum string) (io.ReadCloser, int64, error) {
	p, err := s.BlobPath(sum)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return &verifyingReader{f: f, h: sha256.New(), want: sum}, st.Size(), nil
}

type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	want string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(v.h.Sum(nil)) != v.want {
		return n, fmt.Errorf("blob %s is corrupt: its content does not match its hash", v.want)
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }

// Time format of the engine's API (Delphix style, UTC, milliseconds).
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats a time as the engine's API does.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// User returns the id and password hash of a user.
func (s *Store) User(ctx context.Context, name string) (id int64, hash string, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT id, hash FROM users WHERE name = ?`, name).Scan(&id, &hash)
	return id, hash, err
}

// HasUser tells whether the user exists.
func (s *Store) HasUser(ctx context.Context, name string) (bool, error) {
	_, _, err := s.User(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SetUser creates a user or replaces its password hash.
func (s *Store) SetUser(ctx context.Context, name, hash string, now time.Time) error {
	return s.exec(ctx, `INSERT INTO users(name, hash, created) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET hash = excluded.hash`, name, hash, FormatTime(now))
}
