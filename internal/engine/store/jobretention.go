package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// JobRetention bounds the history of jobs, their events and actions
// (docs/engine.md, "Jobs"): a job that has ended is deleted, with its
// events and its action, once more than Keep newer jobs exist or once its
// last update is older than Before. Never deleted: a job still running,
// the latest job of each object (its target), and a job an object names
// (a snapshot's job, a container's or environment's interrupted job, a
// policy's last job). Actions without a job (uploads, plugin deletes)
// follow the same rules among themselves.
type JobRetention struct {
	Keep   int    // jobs (and jobless actions) kept beyond the protected ones; <= 0: no bound by count
	Before string // the time (FormatTime) before which an ended job is deleted; "": no bound by age
}

// pruneBatch is how many jobs one write deletes, with their events and
// actions, so that a prune holds the writer's lock briefly.
const pruneBatch = 200

// protectedJobs selects the ids of the jobs JobRetention never deletes.
const protectedJobs = `
	SELECT id FROM jobs WHERE state = 'RUNNING'
	UNION SELECT MAX(id) FROM jobs WHERE target IS NOT NULL AND target != '' GROUP BY target
	UNION SELECT CAST(substr(v, 5) AS INTEGER) FROM (
		SELECT json_extract(data, '$.job') AS v FROM objects WHERE kind = '` + KindSnapshot + `'
		UNION ALL SELECT json_extract(data, '$.interrupted.job') FROM objects WHERE kind IN ('` + KindContainer + `', '` + KindEnvironment + `')
		UNION ALL SELECT last_job FROM policies
	) WHERE v LIKE 'JOB-%'`

// PruneJobs deletes what r says may go, in writes of at most pruneBatch
// jobs, and returns how many jobs and jobless actions it deleted.
func (s *Store) PruneJobs(ctx context.Context, r JobRetention) (jobs, actions int, err error) {
	if r.Keep <= 0 && r.Before == "" {
		return 0, 0, nil
	}
	for {
		var n int
		n, err = s.pruneWrite(ctx, r, `
			SELECT id, action_id FROM jobs
			WHERE state != 'RUNNING' AND id NOT IN (`+protectedJobs+`)
			AND (id <= ? OR update_time < ?)
			ORDER BY id LIMIT ?`, `SELECT id FROM jobs ORDER BY id DESC LIMIT 1 OFFSET ?`,
			func(ctx context.Context, tx *sql.Tx, ids, actionIDs []any) error {
				in := placeholders(len(ids))
				for _, q := range []string{`DELETE FROM job_events WHERE job_id IN (` + in + `)`, `DELETE FROM jobs WHERE id IN (` + in + `)`} {
					if _, err := tx.ExecContext(ctx, q, ids...); err != nil {
						return err
					}
				}
				_, err := tx.ExecContext(ctx, `DELETE FROM actions WHERE id IN (`+placeholders(len(actionIDs))+`)`, actionIDs...)
				return err
			})
		jobs += n
		if err != nil || n < pruneBatch {
			break
		}
	}
	if err != nil {
		return jobs, 0, err
	}
	for {
		var n int
		n, err = s.pruneWrite(ctx, r, `
			SELECT id, id FROM actions
			WHERE job_id IS NULL AND state != 'RUNNING'
			AND (id <= ? OR COALESCE(end_time, start_time) < ?)
			ORDER BY id LIMIT ?`, `SELECT id FROM actions WHERE job_id IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?`,
			func(ctx context.Context, tx *sql.Tx, ids, _ []any) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM actions WHERE id IN (`+placeholders(len(ids))+`)`, ids...)
				return err
			})
		actions += n
		if err != nil || n < pruneBatch {
			return jobs, actions, err
		}
	}
}

// pruneWrite runs one write: the rows that pick selects (id, action id)
// given the last id kept by count (cut selects it: the id Keep rows below
// the newest) and Before, deleted by del. It returns how many it deleted.
func (s *Store) pruneWrite(ctx context.Context, r JobRetention, pick, cut string, del func(ctx context.Context, tx *sql.Tx, ids, actionIDs []any) error) (int, error) {
	n := 0
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		var last int64 // rows up to this id are beyond the newest Keep
		if r.Keep > 0 {
			if err := tx.QueryRowContext(ctx, cut, r.Keep).Scan(&last); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, pick, last, r.Before, pruneBatch)
		if err != nil {
			return err
		}
		var ids, actionIDs []any
		for rows.Next() {
			var id, action int64
			if err := rows.Scan(&id, &action); err != nil {
				rows.Close()
				return err
			}
			ids, actionIDs = append(ids, id), append(actionIDs, action)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := del(ctx, tx, ids, actionIDs); err != nil {
			return fmt.Errorf("pruning the job history: %w", err)
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// placeholders is n SQL parameters: ?, ?, ...
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
