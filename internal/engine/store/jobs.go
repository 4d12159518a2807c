package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The columns a row may lack are pointers in the row types (nil is SQL's
// NULL), so that the store's callers need no SQL package: Text and
// TextOrNull make them, TextValue reads them.

// Text is s as the value of an optional text column.
func Text(s string) *string { return &s }

// TextOrNull is s as the value of an optional text column, NULL when s is
// empty.
func TextOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TextValue is the value of an optional text column, "" when it is NULL.
func TextValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

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
	EndTime            *string
	FailureDescription *string
	FailureAction      *string
	FailureCode        *string
	JobID              *int64
}

// Ref is the action's reference (ACTION-n).
func (a *Action) Ref() string { return fmt.Sprintf("ACTION-%d", a.ID) }

// InsertAction stores a new action and sets its ID.
func (s *Store) InsertAction(ctx context.Context, a *Action) error {
	return s.write(ctx, s.InsertActionTx(a).inTx)
}

// InsertActionTx is InsertAction as a step of a larger transaction
// (Install's, for one).
func (s *Store) InsertActionTx(a *Action) TxStep {
	return func(ctx context.Context, t *Tx) error {
		tx := t.tx
		res, err := tx.StmtContext(ctx, s.wstmts.insertAction).ExecContext(ctx,
			a.ActionType, a.Title, a.Details, a.State, a.UserRef, a.StartTime, a.EndTime, a.FailureDescription, a.FailureAction, a.FailureCode, a.JobID)
		if err != nil {
			return err
		}
		a.ID, err = res.LastInsertId()
		return err
	}
}

// FinishAction records the end of an action.
func (s *Store) FinishAction(ctx context.Context, id int64, state, end string, failDesc, failAction, failCode *string) error {
	return s.exec(ctx, `UPDATE actions SET state=?, end_time=?, failure_description=?, failure_action=?, failure_code=? WHERE id=?`,
		state, end, failDesc, failAction, failCode, id)
}

// Action returns the action with the reference, or nil.
func (s *Store) Action(ctx context.Context, ref string) (*Action, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "ACTION-%d", &id); err != nil || fmt.Sprintf("ACTION-%d", id) != ref {
		return nil, nil
	}
	a := &Action{}
	err := s.stmts.action.QueryRowContext(ctx, id).
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
	Target     *string
	TargetName *string
	State      string
	Percent    float64
	UserRef    string
	StartTime  string
	UpdateTime string
	Events     []JobEvent
	// EventsSince is the number of events JobSince was asked to leave out
	// (its since): Events are those after it.
	EventsSince int
	// keptFirst and keptLast are the store's KeepJobEvents.
	keptFirst, keptLast int64
}

// EventsKept says how many of its first and of its last events a job
// keeps (Store.KeepJobEvents), for JobSince's jobs.
func (j *Job) EventsKept() (first, last int64) { return j.keptFirst, j.keptLast }

// Ref is the job's reference (JOB-n).
func (j *Job) Ref() string { return fmt.Sprintf("JOB-%d", j.ID) }

// JobEvent is one event of a job.
type JobEvent struct {
	Timestamp   string
	MessageCode string
	Details     string
	Action      *string
	EventType   string
	Percent     float64
	State       *string
	// Seq is the event's number in its job, from 1 (read by JobSince;
	// ignored by writes). The events a job dropped (KeepJobEvents) leave
	// their numbers out.
	Seq int64
}

// InsertActionWithJob creates a running action and its job, and records
// the job's first events (if any) with them, in one transaction.
func (s *Store) InsertActionWithJob(ctx context.Context, a *Action, j *Job, first ...JobEvent) error {
	return s.write(ctx, s.InsertActionWithJobTx(a, j, first...).inTx)
}

// InsertActionWithJobTx is InsertActionWithJob as a step of a larger
// transaction (Install's: an upgrade without migrations records its
// action, job and events in the transaction that installs the build). The
// action's end and failure are written too when they are set.
func (s *Store) InsertActionWithJobTx(a *Action, j *Job, first ...JobEvent) TxStep {
	return func(ctx context.Context, t *Tx) error {
		tx := t.tx
		if n := len(first); n > 0 { // the job takes the last event's progress
			j.Percent, j.UpdateTime = first[n-1].Percent, first[n-1].Timestamp
		}
		res, err := tx.StmtContext(ctx, s.wstmts.insertAction).ExecContext(ctx,
			a.ActionType, a.Title, a.Details, a.State, a.UserRef, a.StartTime, a.EndTime, a.FailureDescription, a.FailureAction, a.FailureCode, nil)
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		j.ActionID = a.ID
		res, err = tx.StmtContext(ctx, s.wstmts.insertJob).ExecContext(ctx,
			j.ActionID, j.ActionType, j.Title, j.Target, j.TargetName, j.State, j.Percent, j.UserRef, j.StartTime, j.UpdateTime)
		if err != nil {
			return err
		}
		if j.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, s.wstmts.setActionJob).ExecContext(ctx, j.ID, a.ID); err != nil {
			return err
		}
		jobID := j.ID
		a.JobID = &jobID
		for i, ev := range first { // a new job's events are numbered from 1
			if _, err := tx.StmtContext(ctx, s.wstmts.insertEvent).ExecContext(ctx,
				j.ID, i+1, ev.Timestamp, ev.MessageCode, ev.Details, ev.Action, ev.EventType, ev.Percent, ev.State); err != nil {
				return err
			}
		}
		return nil
	}
}

// addEvent appends an event to a job in tx and updates the job's state
// and progress. Past the job's first s.evFirst + s.evLast events, each new
// one drops the oldest of the last s.evLast (KeepJobEvents).
func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, jobID int64, state string, ev JobEvent) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO job_events(job_id, seq, timestamp, message_code, details, action, event_type, percent, state)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = ?), ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		jobID, jobID, ev.Timestamp, ev.MessageCode, ev.Details, ev.Action, ev.EventType, ev.Percent, ev.State).Scan(&seq); err != nil {
		return err
	}
	first, last := s.jobEventsKept()
	if seq > first+last {
		if _, err := tx.ExecContext(ctx, `DELETE FROM job_events WHERE job_id = ? AND seq = ?`, jobID, seq-last); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE jobs SET state=?, percent=?, update_time=? WHERE id=?`, state, ev.Percent, ev.Timestamp, jobID)
	return err
}

// Bounds of one job's events (KeepJobEvents).
const (
	DefaultJobEventsFirst = 100
	DefaultJobEventsLast  = 900
)

// KeepJobEvents bounds the events one job keeps: its first first events
// and its last last ones; each event beyond drops the oldest of the last
// ones (a job that runs for days, or a plugin whose commands print
// without end, cannot grow its job without bound). JobSince reads where
// events were dropped from the gaps in their numbers. Call it before the
// store is used; 0 keeps the default of each.
func (s *Store) KeepJobEvents(first, last int) {
	s.evFirst, s.evLast = int64(first), int64(last)
}

func (s *Store) jobEventsKept() (first, last int64) {
	first, last = s.evFirst, s.evLast
	if first <= 0 {
		first = DefaultJobEventsFirst
	}
	if last <= 0 {
		last = DefaultJobEventsLast
	}
	return first, last
}

// AddEvent appends an event to a job and updates its state and progress.
// The events of concurrent jobs are committed together (write.go).
func (s *Store) AddEvent(ctx context.Context, jobID int64, state string, ev JobEvent) error {
	return s.write(ctx, s.AddEventsTx(jobID, state, ev).inTx)
}

// WriteEvents appends events to a job in one write (see AddEvent).
func (s *Store) WriteEvents(ctx context.Context, jobID int64, state string, evs ...JobEvent) error {
	return s.write(ctx, s.AddEventsTx(jobID, state, evs...).inTx)
}

// AddEventsTx appends events to a job, as a write of a transaction: the
// job takes state and the last event's progress.
func (s *Store) AddEventsTx(jobID int64, state string, evs ...JobEvent) TxStep {
	return func(ctx context.Context, t *Tx) error {
		tx := t.tx
		for _, ev := range evs {
			if err := s.addEvent(ctx, tx, jobID, state, ev); err != nil {
				return err
			}
		}
		return nil
	}
}

// Finish is the end of a job: its last events, and its action's outcome.
type Finish struct {
	JobID, ActionID int64
	State           string // COMPLETED or FAILED (of the job and the action)
	Events          []JobEvent
	End             string
	// The failure, for FAILED.
	FailDesc, FailAction, FailCode *string
}

// FinishJob records the end of a job and of its action in one
// transaction.
func (s *Store) FinishJob(ctx context.Context, f Finish) error {
	return s.write(ctx, s.FinishJobTx(f).inTx)
}

// FinishJobTx is FinishJob as a step of a larger transaction (Install's:
// an upgrade's job ends in the transaction that installs the build).
func (s *Store) FinishJobTx(f Finish) TxStep {
	return func(ctx context.Context, t *Tx) error {
		tx := t.tx
		if err := s.AddEventsTx(f.JobID, f.State, f.Events...)(ctx, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE actions SET state=?, end_time=?, failure_description=?, failure_action=?, failure_code=? WHERE id=?`,
			f.State, f.End, f.FailDesc, f.FailAction, f.FailCode, f.ActionID)
		return err
	}
}

// Job returns the job with the id and its events, or nil.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) { return s.JobSince(ctx, id, 0) }

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	j := &Job{}
	err := row.Scan(&j.ID, &j.ActionID, &j.ActionType, &j.Title, &j.Target, &j.TargetName, &j.State, &j.Percent, &j.UserRef, &j.StartTime, &j.UpdateTime)
	return j, err
}

// JobSince returns the job with the id and its events but the first since
// ones (the events a client has seen already), or nil.
func (s *Store) JobSince(ctx context.Context, id int64, since int) (*Job, error) {
	j, err := scanJob(s.stmts.job.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j.EventsSince = since
	j.keptFirst, j.keptLast = s.jobEventsKept()
	var rows *sql.Rows
	if since > 0 {
		rows, err = s.stmts.eventsSince.QueryContext(ctx, id, since)
	} else {
		rows, err = s.stmts.events.QueryContext(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ev JobEvent
		if err := rows.Scan(&ev.Timestamp, &ev.MessageCode, &ev.Details, &ev.Action, &ev.EventType, &ev.Percent, &ev.State, &ev.Seq); err != nil {
			return nil, err
		}
		j.Events = append(j.Events, ev)
	}
	return j, rows.Err()
}

// JobFilter selects jobs: by state ("" any) and by target, its reference
// or name ("" any).
type JobFilter struct {
	State  string
	Target string
}

// Jobs lists the jobs the filter selects, oldest first, without their
// events.
func (s *Store) Jobs(ctx context.Context, f JobFilter) ([]*Job, error) {
	js, _, err := s.JobsPage(ctx, f, All)
	return js, err
}

// JobsPage lists a page of the jobs the filter selects, oldest first,
// without their events, and how many the filter selects.
func (s *Store) JobsPage(ctx context.Context, f JobFilter, p Page) ([]*Job, int, error) {
	const where = ` FROM jobs WHERE (? = '' OR state = ?) AND (? = '' OR target = ? OR target_name = ?)`
	args := []any{f.State, f.State, f.Target, f.Target, f.Target}
	q := `SELECT ` + jobColumns + where + ` ORDER BY id`
	if !p.whole() {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, p.limit(), max(p.Offset, 0))
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	total := len(out)
	if !p.whole() {
		if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*)`+where, args[:5]...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// InterruptedJobs returns the jobs still RUNNING in the database (without
// their events): at start-up, before Recover marks them FAILED, the jobs
// a stop of the engine cut off.
func (s *Store) InterruptedJobs(ctx context.Context) ([]Job, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, action_id, action_type, title, target, target_name, state, percent, user_ref, start_time, update_time FROM jobs WHERE state = 'RUNNING' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		if err := rows.Scan(&j.ID, &j.ActionID, &j.ActionType, &j.Title, &j.Target, &j.TargetName, &j.State, &j.Percent, &j.UserRef, &j.StartTime, &j.UpdateTime); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
