package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Layout of the data directory.
const (
	dbFile        = "engine.db"
	blobsDir      = "blobs"
	tmpDir        = "tmp"
	pluginLogsDir = "plugin-logs"
	lockFile      = "engine.lock"
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

// store is the engine's persistent state: an SQLite database for rows and
// a content-addressed directory for blobs. Writers are serialized by mu.
type store struct {
	dir string
	db  *sql.DB
	mu  sync.Mutex // serializes writes (and blob adoption with them)
	// keeper seals the secrets of stored objects; nil stores them as they
	// are (only tests of the store alone).
	keeper *secretKeeper
}

func openStore(dir string) (*store, error) {
	for _, d := range []string{dir, filepath.Join(dir, blobsDir, "sha256"), filepath.Join(dir, tmpDir), filepath.Join(dir, pluginLogsDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	dsn := "file:" + filepath.Join(dir, dbFile) +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &store{dir: dir, db: db}
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the database schema in %s: %w", filepath.Join(dir, dbFile), err)
	}
	if _, err := db.Exec(objectsSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the object tables in %s: %w", filepath.Join(dir, dbFile), err)
	}
	if err := addColumn(db, "objects", "sealed", `TEXT NOT NULL DEFAULT ''`); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrading the object table in %s: %w", filepath.Join(dir, dbFile), err)
	}
	if _, err := db.Exec(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1')`); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *store) close() error { return s.db.Close() }

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

// recover runs at start-up: it empties the spool directory (uploads cut
// short by a crash), marks the jobs and actions that were running as
// failed, and removes blobs no row refers to (written before a crash
// stopped their row from committing).
func (s *store) recover(now time.Time) (removedTmp, removedBlobs int, err error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		if os.RemoveAll(filepath.Join(s.dir, tmpDir, e.Name())) == nil {
			removedTmp++
		}
	}
	ts := formatTime(now)
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
	root := filepath.Join(s.dir, blobsDir, "sha256")
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

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// blobPath is where the blob with the given sha256 lives.
func (s *store) blobPath(sum string) (string, error) {
	if !sha256Hex.MatchString(sum) {
		return "", fmt.Errorf("invalid blob name %q", sum)
	}
	return filepath.Join(s.dir, blobsDir, "sha256", sum[:2], sum), nil
}

// spool is a temporary file in the data directory being written, hashed as
// it goes.
type spool struct {
	f    *os.File
	h    hash.Hash
	size int64
}

func (s *store) newSpool(prefix string) (*spool, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), prefix+"-*")
	if err != nil {
		return nil, err
	}
	return &spool{f: f, h: sha256.New()}, nil
}

func (sp *spool) Write(p []byte) (int, error) {
	n, err := sp.f.Write(p)
	sp.h.Write(p[:n])
	sp.size += int64(n)
	return n, err
}

func (sp *spool) sum() string { return hex.EncodeToString(sp.h.Sum(nil)) }

// finish syncs the spool file to disk.
func (sp *spool) finish() error { return sp.f.Sync() }

// discard removes the spool file (a no-op after it was adopted).
func (sp *spool) discard() {
	if sp == nil || sp.f == nil {
		return
	}
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// adopt moves a finished spool file into the blob store under its sha256
// (atomic rename, then the directory is synced). An existing identical
// blob is kept. Callers hold s.mu.
func (s *store) adopt(sp *spool) (string, error) {
	sum := sp.sum()
	dst, err := s.blobPath(sum)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", err
	}
	name := sp.f.Name()
	if err := sp.f.Close(); err != nil {
		return "", err
	}
	sp.f = nil
	if _, err := os.Stat(dst); err == nil {
		os.Remove(name)
		return sum, nil
	}
	if err := os.Rename(name, dst); err != nil {
		os.Remove(name)
		return "", err
	}
	if err := artifact.SyncDir(filepath.Dir(dst)); err != nil {
		return "", err
	}
	return sum, artifact.SyncDir(filepath.Join(s.dir, tmpDir))
}

// openBlob opens a blob and checks, as it is read to the end, that its
// content still has its name's hash.
func (s *store) openBlob(sum string) (io.ReadCloser, int64, error) {
	p, err := s.blobPath(sum)
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

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ---- users ----

func (s *store) user(ctx context.Context, name string) (id int64, hash string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT id, hash FROM users WHERE name = ?`, name).Scan(&id, &hash)
	return id, hash, err
}

func (s *store) hasUser(ctx context.Context, name string) (bool, error) {
	_, _, err := s.user(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *store) setUser(ctx context.Context, name, hash string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, `INSERT INTO users(name, hash, created) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET hash = excluded.hash`, name, hash, formatTime(now))
	return err
}

// ---- toolkits ----

// toolkitRow is an installed plugin.
type toolkitRow struct {
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

func (t *toolkitRow) ref() string { return fmt.Sprintf("APPDATA_TOOLKIT-%d", t.ID) }

// artifact decodes the stored artifact (without sourceCode).
func (t *toolkitRow) artifact() (*artifact.Artifact, error) {
	a := &artifact.Artifact{}
	if err := json.Unmarshal([]byte(t.ArtifactJSON), a); err != nil {
		return nil, fmt.Errorf("the stored artifact of %s is unreadable: %w", t.ref(), err)
	}
	return a, nil
}

const toolkitColumns = `id, plugin_id, name, build_number, source_sha256, source_size, artifact_sha256, artifact, installed, updated`

type scanner interface{ Scan(...any) error }

func scanToolkit(r scanner) (*toolkitRow, error) {
	t := &toolkitRow{}
	err := r.Scan(&t.ID, &t.PluginID, &t.Name, &t.BuildNumber, &t.SourceSHA256, &t.SourceSize, &t.ArtifactSHA256, &t.ArtifactJSON, &t.Installed, &t.Updated)
	return t, err
}

func (s *store) toolkitByPluginID(ctx context.Context, q querier, pluginID string) (*toolkitRow, error) {
	t, err := scanToolkit(q.QueryRowContext(ctx, `SELECT `+toolkitColumns+` FROM toolkits WHERE plugin_id = ?`, pluginID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return t, err
}

func (s *store) toolkitByRef(ctx context.Context, ref string) (*toolkitRow, error) {
	return s.toolkitByRefQ(ctx, s.db, ref)
}

func (s *store) toolkitByRefQ(ctx context.Context, q querier, ref string) (*toolkitRow, error) {
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

func (s *store) toolkits(ctx context.Context) ([]*toolkitRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+toolkitColumns+` FROM toolkits ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*toolkitRow
	for rows.Next() {
		t, err := scanToolkit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// installDecision is what install's decide function returns: the row to
// write, or an error that refuses the installation.
type installDecision func(current *toolkitRow) (*toolkitRow, error)

// installApply runs in install's transaction after the toolkit row is
// written (an upgrade stores its migrated objects there); an error rolls
// everything back.
type installApply func(ctx context.Context, tx *sql.Tx) error

// install adopts the source blob and writes the toolkit row in one
// transaction, after decide approved it against the row installed at that
// moment. The blob is durable before the row commits, so a crash leaves
// either the old row (and maybe an orphan blob, removed at the next start)
// or the new row with its blob: never a row without its blob.
func (s *store) install(ctx context.Context, pluginID string, source *spool, decide installDecision, apply installApply) (*toolkitRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	current, err := s.toolkitByPluginID(ctx, tx, pluginID)
	if err != nil {
		return nil, err
	}
	row, err := decide(current)
	if err != nil {
		return nil, err
	}
	sum, err := s.adopt(source)
	if err != nil {
		return nil, fmt.Errorf("storing the plugin's code: %w", err)
	}
	row.SourceSHA256 = sum
	if current == nil {
		res, err := tx.ExecContext(ctx, `INSERT INTO toolkits(plugin_id, name, build_number, source_sha256, source_size, artifact_sha256, artifact, installed, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, row.PluginID, row.Name, row.BuildNumber, row.SourceSHA256, row.SourceSize, row.ArtifactSHA256, row.ArtifactJSON, row.Installed, row.Updated)
		if err != nil {
			return nil, err
		}
		if row.ID, err = res.LastInsertId(); err != nil {
			return nil, err
		}
	} else {
		row.ID, row.Installed = current.ID, current.Installed
		if _, err := tx.ExecContext(ctx, `UPDATE toolkits SET name=?, build_number=?, source_sha256=?, source_size=?, artifact_sha256=?, artifact=?, updated=? WHERE id=?`,
			row.Name, row.BuildNumber, row.SourceSHA256, row.SourceSize, row.ArtifactSHA256, row.ArtifactJSON, row.Updated, row.ID); err != nil {
			return nil, err
		}
	}
	if apply != nil {
		if err := apply(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
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

// deleteToolkit removes a toolkit row; its blob is removed too when no
// other row shares it.
func (s *store) deleteToolkit(ctx context.Context, t *toolkitRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM toolkits WHERE id = ?`, t.ID); err != nil {
		return err
	}
	return s.removeBlobIfUnused(ctx, t.SourceSHA256)
}

// removeBlobIfUnused deletes the code blob sum when no toolkit row refers
// to it any more. A crash before the removal leaves an orphan, which the
// next start removes.
func (s *store) removeBlobIfUnused(ctx context.Context, sum string) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM toolkits WHERE source_sha256 = ?`, sum).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if p, err := s.blobPath(sum); err == nil {
			os.Remove(p)
		}
	}
	return nil
}

// ---- actions and jobs ----

type actionRow struct {
	ID                 int64
	ActionType         string
	Title              string
	Details            string
	State              string
	UserRef            string
	StartTime          string
	EndTime            sql.NullString
	FailureDescription sql.NullString
	FailureAction      sql.NullString
	FailureCode        sql.NullString
	JobID              sql.NullInt64
}

func (a *actionRow) ref() string { return fmt.Sprintf("ACTION-%d", a.ID) }

func (s *store) insertAction(ctx context.Context, a *actionRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, `INSERT INTO actions(action_type, title, details, state, user_ref, start_time, end_time, failure_description, failure_action, failure_code, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ActionType, a.Title, a.Details, a.State, a.UserRef, a.StartTime, a.EndTime, a.FailureDescription, a.FailureAction, a.FailureCode, a.JobID)
	if err != nil {
		return err
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (s *store) finishAction(ctx context.Context, id int64, state, end string, failDesc, failAction, failCode *string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, `UPDATE actions SET state=?, end_time=?, failure_description=?, failure_action=?, failure_code=? WHERE id=?`,
		state, end, failDesc, failAction, failCode, id)
	return err
}

func (s *store) action(ctx context.Context, ref string) (*actionRow, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "ACTION-%d", &id); err != nil || fmt.Sprintf("ACTION-%d", id) != ref {
		return nil, nil
	}
	a := &actionRow{}
	err := s.db.QueryRowContext(ctx, `SELECT id, action_type, title, details, state, user_ref, start_time, end_time, failure_description, failure_action, failure_code, job_id FROM actions WHERE id = ?`, id).
		Scan(&a.ID, &a.ActionType, &a.Title, &a.Details, &a.State, &a.UserRef, &a.StartTime, &a.EndTime, &a.FailureDescription, &a.FailureAction, &a.FailureCode, &a.JobID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return a, err
}

type jobRow struct {
	ID         int64
	ActionID   int64
	ActionType string
	Title      string
	Target     sql.NullString
	TargetName sql.NullString
	State      string
	Percent    float64
	UserRef    string
	StartTime  string
	UpdateTime string
	Events     []jobEvent
}

func (j *jobRow) ref() string { return fmt.Sprintf("JOB-%d", j.ID) }

type jobEvent struct {
	Timestamp   string
	MessageCode string
	Details     string
	Action      sql.NullString
	EventType   string
	Percent     float64
	State       sql.NullString
}

// insertActionWithJob creates a running action and its job.
func (s *store) insertActionWithJob(ctx context.Context, a *actionRow, j *jobRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO actions(action_type, title, details, state, user_ref, start_time) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ActionType, a.Title, a.Details, a.State, a.UserRef, a.StartTime)
	if err != nil {
		return err
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	j.ActionID = a.ID
	res, err = tx.ExecContext(ctx, `INSERT INTO jobs(action_id, action_type, title, target, target_name, state, percent, user_ref, start_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ActionID, j.ActionType, j.Title, j.Target, j.TargetName, j.State, j.Percent, j.UserRef, j.StartTime, j.UpdateTime)
	if err != nil {
		return err
	}
	if j.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE actions SET job_id = ? WHERE id = ?`, j.ID, a.ID); err != nil {
		return err
	}
	a.JobID = sql.NullInt64{Int64: j.ID, Valid: true}
	return tx.Commit()
}

// addEvent appends an event to a job and updates its state and progress.
func (s *store) addEvent(ctx context.Context, jobID int64, state string, ev jobEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO job_events(job_id, timestamp, message_code, details, action, event_type, percent, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		jobID, ev.Timestamp, ev.MessageCode, ev.Details, ev.Action, ev.EventType, ev.Percent, ev.State); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state=?, percent=?, update_time=? WHERE id=?`, state, ev.Percent, ev.Timestamp, jobID); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *store) job(ctx context.Context, id int64) (*jobRow, error) {
	j := &jobRow{}
	err := s.db.QueryRowContext(ctx, `SELECT id, action_id, action_type, title, target, target_name, state, percent, user_ref, start_time, update_time FROM jobs WHERE id = ?`, id).
		Scan(&j.ID, &j.ActionID, &j.ActionType, &j.Title, &j.Target, &j.TargetName, &j.State, &j.Percent, &j.UserRef, &j.StartTime, &j.UpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT timestamp, message_code, details, action, event_type, percent, state FROM job_events WHERE job_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ev jobEvent
		if err := rows.Scan(&ev.Timestamp, &ev.MessageCode, &ev.Details, &ev.Action, &ev.EventType, &ev.Percent, &ev.State); err != nil {
			return nil, err
		}
		j.Events = append(j.Events, ev)
	}
	return j, rows.Err()
}
