package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
)

// readConns is the number of read-only connections: reads run side by
// side with each other and with the writer (WAL mode). A read holds its
// connection while its goroutine waits for a CPU, so under many clients
// on few cores reads queued for one of 4 (docs/performance.md, "Where an
// upload waits").
const readConns = 8

// readStmts are the reads every poll or list makes, prepared once: SQLite
// then does not parse them again on every call.
type readStmts struct {
	action, job, events, eventsSince                                                                 *sql.Stmt
	object, objects, objectsParent, objectsPage, objectsPageParent, objectsCount, objectsCountParent *sql.Stmt
}

func (r *readStmts) close() {
	for _, st := range []*sql.Stmt{r.action, r.job, r.events, r.eventsSince,
		r.object, r.objects, r.objectsParent, r.objectsPage, r.objectsPageParent, r.objectsCount, r.objectsCountParent} {
		if st != nil {
			st.Close()
		}
	}
}

const (
	actionColumns = `id, action_type, title, details, state, user_ref, start_time, end_time, failure_description, failure_action, failure_code, job_id`
	jobColumns    = `id, action_id, action_type, title, target, target_name, state, percent, user_ref, start_time, update_time`
	eventColumns  = `timestamp, message_code, details, action, event_type, percent, state, seq`
)

// openReaders opens the read-only connections of the database file path
// and prepares the hot reads on them.
func (s *Store) openReaders(path string) error {
	rdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	s.rdb = rdb
	prep := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = rdb.Prepare(q)
	}
	st := &s.stmts
	prep(&st.action, `SELECT `+actionColumns+` FROM actions WHERE id = ?`)
	prep(&st.job, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`)
	prep(&st.events, `SELECT `+eventColumns+` FROM job_events WHERE job_id = ? ORDER BY id`)
	prep(&st.eventsSince, `SELECT `+eventColumns+` FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq`) // O(new events)
	prep(&st.object, `SELECT data, sealed FROM objects WHERE id=? AND kind=?`)
	prep(&st.objects, `SELECT data FROM objects WHERE kind=? ORDER BY id`)
	prep(&st.objectsParent, `SELECT data FROM objects WHERE kind=? AND parent=? ORDER BY id`)
	prep(&st.objectsPage, `SELECT data FROM objects WHERE kind=? ORDER BY id LIMIT ? OFFSET ?`)
	prep(&st.objectsPageParent, `SELECT data FROM objects WHERE kind=? AND parent=? ORDER BY id LIMIT ? OFFSET ?`)
	prep(&st.objectsCount, `SELECT COUNT(*) FROM objects WHERE kind=?`)
	prep(&st.objectsCountParent, `SELECT COUNT(*) FROM objects WHERE kind=? AND parent=?`)
	if err != nil {
		st.close()
		rdb.Close()
		s.rdb = nil
	}
	return err
}

// Page selects a part of a list: Limit items from Offset on. A Limit
// below zero is no limit (the whole list from Offset).
type Page struct {
	Offset, Limit int
}

// All is the whole list.
var All = Page{Limit: -1}

// whole tells whether the page is the whole list.
func (p Page) whole() bool { return p.Offset <= 0 && p.Limit < 0 }

// limit is the page's LIMIT for SQLite (-1: none).
func (p Page) limit() int {
	if p.Limit < 0 {
		return -1
	}
	return p.Limit
}

// ToolkitHead is what changes when an installed plugin changes: the key
// of its rendered form.
type ToolkitHead struct {
	ID                           int64
	ArtifactSHA256, SourceSHA256 string
	SourceSize                   int64
	Installed, Updated           string
}

// Ref is the toolkit's reference (APPDATA_TOOLKIT-n).
func (h ToolkitHead) Ref() string { return fmt.Sprintf("APPDATA_TOOLKIT-%d", h.ID) }

// toolkitCache holds the committed rows of the toolkits table in memory
// (a few kilobytes per plugin: its artifact's JSON without the code):
// lists, lookups and the blob bookkeeping of the installed plugins run no
// SQL. It is loaded when the store opens and changed by the writes of the
// table right after they commit, in commit order, under the writer's lock
// (write.go, writeOp.after). Its slices and rows are never changed in
// place: a change makes new ones, so a reader may keep what it got.
type toolkitCache struct {
	mu       sync.RWMutex
	rows     []*Toolkit // by id
	heads    []ToolkitHead
	byPlugin map[string]*Toolkit
	bySource map[string]int // code blob sha256 -> rows using it
}

func headOfRow(t *Toolkit) ToolkitHead {
	return ToolkitHead{ID: t.ID, ArtifactSHA256: t.ArtifactSHA256, SourceSHA256: t.SourceSHA256,
		SourceSize: t.SourceSize, Installed: t.Installed, Updated: t.Updated}
}

// load reads every row (at Open).
func (c *toolkitCache) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT `+toolkitColumns+` FROM toolkits ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []*Toolkit
	for rows.Next() {
		t, err := scanToolkit(rows)
		if err != nil {
			return err
		}
		all = append(all, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(all)
	return nil
}

// set makes the cache hold rows (sorted by id); callers hold c.mu.
func (c *toolkitCache) set(rows []*Toolkit) {
	c.rows = rows
	c.heads = make([]ToolkitHead, len(rows))
	c.byPlugin = make(map[string]*Toolkit, len(rows))
	c.bySource = make(map[string]int, len(rows))
	for i, t := range rows {
		c.heads[i] = headOfRow(t)
		c.byPlugin[t.PluginID] = t
		c.bySource[t.SourceSHA256]++
	}
}

// put records a row written (inserted or updated) by a commit.
func (c *toolkitCache) put(t *Toolkit) {
	row := *t
	c.mu.Lock()
	defer c.mu.Unlock()
	rows := make([]*Toolkit, 0, len(c.rows)+1)
	placed := false
	for _, r := range c.rows {
		switch {
		case r.ID == row.ID:
			continue
		case !placed && r.ID > row.ID:
			rows = append(rows, &row)
			placed = true
		}
		rows = append(rows, r)
	}
	if !placed {
		rows = append(rows, &row)
	}
	c.set(rows)
}

// remove records a row deleted by a commit.
func (c *toolkitCache) remove(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows := make([]*Toolkit, 0, len(c.rows))
	for _, r := range c.rows {
		if r.ID != id {
			rows = append(rows, r)
		}
	}
	c.set(rows)
}

func copyOf(t *Toolkit) *Toolkit {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// byID finds a row by id (rows are sorted by id).
func (c *toolkitCache) byID(id int64) *Toolkit {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := slices.BinarySearchFunc(c.rows, id, func(t *Toolkit, id int64) int { return cmp.Compare(t.ID, id) })
	if !ok {
		return nil
	}
	return copyOf(c.rows[i])
}

// ToolkitHeads returns the heads of a page of the installed plugins,
// oldest first, and how many there are in all.
func (s *Store) ToolkitHeads(ctx context.Context, p Page) ([]ToolkitHead, int, error) {
	s.toolkits.mu.RLock()
	all := s.toolkits.heads
	s.toolkits.mu.RUnlock()
	from := min(max(p.Offset, 0), len(all))
	to := len(all)
	if p.Limit >= 0 {
		to = min(from+p.Limit, len(all))
	}
	return all[from:to:to], len(all), nil
}

// ToolkitByID returns the installed plugin with the row id, or nil.
func (s *Store) ToolkitByID(ctx context.Context, id int64) (*Toolkit, error) {
	return s.toolkits.byID(id), nil
}

// ListObjectsPage returns a page of the stored documents of a kind (of a
// parent when parent is not empty), oldest first, as the API serves them
// (their secrets masked), and how many there are in all.
func (s *Store) ListObjectsPage(ctx context.Context, kind, parent string, p Page) ([]RawDoc, int, error) {
	var rows *sql.Rows
	var err error
	// A LIMIT that is a bound parameter makes SQLite prepare the
	// statement again at every call: the whole list has statements of its
	// own.
	switch {
	case parent == "" && p.whole():
		rows, err = s.stmts.objects.QueryContext(ctx, kind)
	case p.whole():
		rows, err = s.stmts.objectsParent.QueryContext(ctx, kind, parent)
	case parent == "":
		rows, err = s.stmts.objectsPage.QueryContext(ctx, kind, p.limit(), max(p.Offset, 0))
	default:
		rows, err = s.stmts.objectsPageParent.QueryContext(ctx, kind, parent, p.limit(), max(p.Offset, 0))
	}
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []RawDoc
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	total := len(out)
	if !p.whole() {
		var row *sql.Row
		if parent == "" {
			row = s.stmts.objectsCount.QueryRowContext(ctx, kind)
		} else {
			row = s.stmts.objectsCountParent.QueryRowContext(ctx, kind, parent)
		}
		if err := row.Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// RawDoc is a stored JSON document as it is stored: compact, written by
// json.Marshal (marshalObject), so an answer can carry it unchanged.
type RawDoc = []byte
