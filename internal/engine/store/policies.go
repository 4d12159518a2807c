package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// policiesSQL creates the table of the dSources' and VDBs' policies: when
// a container syncs (dSources) or refreshes (VDBs) by itself, how many
// snapshots it keeps, and when its policy ran last and runs next. The
// scheduler rewrites a row at every run, so the policy lives beside the
// container's document, not in it (a job that saves the container would
// otherwise put back an older next run).
const policiesSQL = `
CREATE TABLE IF NOT EXISTS policies (
	container TEXT PRIMARY KEY,          -- APPDATA_CONTAINER-n
	every     TEXT NOT NULL DEFAULT '',  -- a Go duration, or ''
	schedule  TEXT NOT NULL DEFAULT '',  -- a cron expression (5 fields), or ''
	keep      INTEGER NOT NULL DEFAULT 0, -- snapshots kept; 0: all
	user_ref  TEXT NOT NULL DEFAULT '',  -- who set it: its runs are that user's jobs
	next_run  TEXT NOT NULL DEFAULT '',
	last_run  TEXT NOT NULL DEFAULT '',
	last_job  TEXT NOT NULL DEFAULT '',
	last_note TEXT NOT NULL DEFAULT ''   -- why the last due run did not run, or ''
);
`

// Policy is a container's policy row.
type Policy struct {
	Container       string
	Every, Schedule string
	Keep            int
	UserRef         string
	NextRun         string // FormatTime, or ""
	LastRun         string
	LastJob         string
	LastNote        string
}

const policyColumns = `container, every, schedule, keep, user_ref, next_run, last_run, last_job, last_note`

func scanPolicy(r scanner) (*Policy, error) {
	p := &Policy{}
	if err := r.Scan(&p.Container, &p.Every, &p.Schedule, &p.Keep, &p.UserRef, &p.NextRun, &p.LastRun, &p.LastJob, &p.LastNote); err != nil {
		return nil, err
	}
	return p, nil
}

// PutPolicy stores a container's policy, replacing the one it had.
func (s *Store) PutPolicy(ctx context.Context, p *Policy) error {
	return s.exec(ctx, `INSERT OR REPLACE INTO policies(`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Container, p.Every, p.Schedule, p.Keep, p.UserRef, p.NextRun, p.LastRun, p.LastJob, p.LastNote)
}

// PolicyRan records a due run of a container's policy: when it runs next,
// and the run: the job it started, or (job "") why it did not run, the
// job started before staying the last job.
func (s *Store) PolicyRan(ctx context.Context, container, nextRun, lastRun, lastJob, note string) error {
	return s.exec(ctx, `UPDATE policies SET next_run=?, last_run=?, last_job=CASE WHEN ?='' THEN last_job ELSE ? END, last_note=? WHERE container=?`,
		nextRun, lastRun, lastJob, lastJob, note, container)
}

// DeletePolicy removes a container's policy (none: no error).
func (s *Store) DeletePolicy(ctx context.Context, container string) error {
	return s.exec(ctx, `DELETE FROM policies WHERE container=?`, container)
}

// PolicyOf returns a container's policy, or nil when it has none.
func (s *Store) PolicyOf(ctx context.Context, container string) (*Policy, error) {
	p, err := scanPolicy(s.rdb.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE container=?`, container))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// Policies returns every policy, by container.
func (s *Store) Policies(ctx context.Context) (map[string]*Policy, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+policyColumns+` FROM policies ORDER BY container`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out[p.Container] = p
	}
	return out, rows.Err()
}

// ParseTime reads a time FormatTime wrote.
func ParseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }
