package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Action is a row of the actions table: what a request did (an upload, a
// deletion, a workflow), with its outcome.
type Action struct {
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

// Ref is the action's reference (ACTION-n).
func (a *Action) Ref() string { return fmt.Sprintf("ACTION-%d", a.ID) }

// InsertAction stores a new action and sets its ID.
func (s *Store) InsertAction(ctx context.Context, a *Action) error {
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

// FinishAction records the end of an action.
func (s *Store) FinishAction(ctx context.Context, id int64, state, end string, failDesc, failAction, failCode *string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.db.ExecContext(ctx, `UPDATE actions SET state=?, end_time=?, failure_description=?, failure_action=?, failure_code=? WHERE id=?`,
		state, end, failDesc, failAction, failCode, id)
	return err
}

// Action returns the action with the reference, or nil.
func (s *Store) Action(ctx context.Context, ref string) (*Action, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "ACTION-%d", &id); err != nil || fmt.Sprintf("ACTION-%d", id) != ref {
		return nil, nil
	}
	a := &Action{}
	err := s.db.QueryRowContext(ctx, `SELECT id, action_type, title, details, state, user_ref, start_time, end_time, failure_description, failure_action, failure_code, job_id FROM actions WHERE id = ?`, id).
		Scan(&a.ID, &a.ActionType, &a.Title, &a.Details, &a.State, &a.UserRef, &a.StartTime, &a.EndTime, &a.FailureDescription, &a.FailureAction, &a.FailureCode, &a.JobID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return a, err
}

// Job is a row of the jobs table: the progress of a workflow, with its
// events.
type Job struct {
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
	Events     []JobEvent
}

// Ref is the job's reference (JOB-n).
func (j *Job) Ref() string { return fmt.Sprintf("JOB-%d", j.ID) }

// JobEvent is one event of a job.
type JobEvent struct {
	Timestamp   string
	MessageCode string
	Details     string
	Action      sql.NullString
	EventType   string
	Percent     float64
	State       sql.NullString
}

// InsertActionWithJob creates a running action and its job.
func (s *Store) InsertActionWithJob(ctx context.Context, a *Action, j *Job) error {
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

// AddEvent appends an event to a job and updates its state and progress.
func (s *Store) AddEvent(ctx context.Context, jobID int64, state string, ev JobEvent) error {
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

// Job returns the job with the id and its events, or nil.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	j := &Job{}
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
		var ev JobEvent
		if err := rows.Scan(&ev.Timestamp, &ev.MessageCode, &ev.Details, &ev.Action, &ev.EventType, &ev.Percent, &ev.State); err != nil {
			return nil, err
		}
		j.Events = append(j.Events, ev)
	}
	return j, rows.Err()
}
