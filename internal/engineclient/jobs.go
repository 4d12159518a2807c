package engineclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/termsafe"
)

// GetJob reads a job.
func (c *Client) GetJob(ctx context.Context, ref string) (*engineapi.Job, error) {
	return c.GetJobSince(ctx, ref, 0)
}

// GetJobSince reads a job with its events but the first since ones (the
// events the caller has seen already).
func (c *Client) GetJobSince(ctx context.Context, ref string, since int) (*engineapi.Job, error) {
	var j engineapi.Job
	if err := c.GetResult(ctx, engineapi.JobSincePath(ref, since), &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// ListJobs lists the jobs, oldest first, without their events: those in
// state ("" all; RUNNING the running and queued ones) and of target (the
// reference or name of the object they work on, "" all).
func (c *Client) ListJobs(ctx context.Context, state, target string) ([]engineapi.Job, error) {
	return list[engineapi.Job](ctx, c, engineapi.JobsPath(state, target))
}

// CancelJob asks the engine to cancel a running job and returns the job as
// it is then (still RUNNING while its object is put back in a defined
// state; FollowJob follows it to CANCELED).
func (c *Client) CancelJob(ctx context.Context, ref string) (*engineapi.Job, error) {
	env, err := c.Post(ctx, engineapi.JobCancelPath(ref), []byte(`{}`))
	if err != nil {
		return nil, err
	}
	var j engineapi.Job
	if err := json.Unmarshal(env.Result, &j); err != nil {
		return nil, Unexpected(200, "the answer to a job's cancellation is not a job: "+err.Error())
	}
	return &j, nil
}

// GetAction reads an action.
func (c *Client) GetAction(ctx context.Context, ref string) (*engineapi.Action, error) {
	var a engineapi.Action
	if err := c.GetResult(ctx, engineapi.ActionPath(ref), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetActionJob reads the job of an action.
func (c *Client) GetActionJob(ctx context.Context, action string) (*engineapi.Job, error) {
	var j engineapi.Job
	if err := c.GetResult(ctx, engineapi.ActionJobPath(action), &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// FollowJob polls a job until it is no longer RUNNING, calling onEvent
// once for each new event, and returns the final job with its events: all
// of them, or the first and the last ones with an event that says how
// many were left out between (eventLog: an engine may send events without
// end).
// Each poll asks only for the events not seen yet (GetJobSince). Past the
// timeout (0: an hour) or when ctx ends it returns the job as last read
// with an *Error: the job goes on running on the engine.
func (c *Client) FollowJob(ctx context.Context, job string, timeout time.Duration, onEvent func(engineapi.JobEvent)) (*engineapi.Job, error) {
	if timeout <= 0 {
		timeout = time.Hour
	}
	deadline := time.Now().Add(timeout)
	interval := 200 * time.Millisecond
	var events eventLog
	since := 0
	for {
		j, err := c.GetJobSince(ctx, job, since)
		if err != nil {
			return nil, err
		}
		for _, ev := range j.Events {
			if onEvent != nil {
				onEvent(ev)
			}
			events.add(ev)
		}
		// Where the job dropped events, one event stands for them and the
		// engine says where to go on; else the count of events is it.
		since += len(j.Events)
		if j.NextEventsSince > 0 {
			since = j.NextEventsSince
		}
		j.Events = events.events()
		if j.JobState != engineapi.JobRunning {
			return j, nil
		}
		if time.Now().After(deadline) {
			return j, &Error{Kind: KindWaitTimedOut, Msg: fmt.Sprintf("Timed out waiting for job %s (%s) to end; it is still running on the engine: follow it with 'dvp job wait %s', or cancel it with 'dvp job cancel %s'.", job, j.Title, job, job)}
		}
		select {
		case <-ctx.Done():
			return j, &Error{Kind: KindLocal, Msg: fmt.Sprintf("Stopped waiting for job %s. It goes on running on the engine: follow it with 'dvp job wait %s', or cancel it with 'dvp job cancel %s'.", job, job, job), Err: ctx.Err()}
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 2*time.Second)
	}
}

// AwaitJob follows a job as FollowJob does; a job that ends without
// completing is an *Error of KindJobFailed saying why (JobFailure).
func (c *Client) AwaitJob(ctx context.Context, job string, timeout time.Duration, onEvent func(engineapi.JobEvent)) (*engineapi.Job, error) {
	j, err := c.FollowJob(ctx, job, timeout, onEvent)
	if err != nil {
		return j, err
	}
	if j.JobState != engineapi.JobCompleted {
		return j, JobFailure(j)
	}
	return j, nil
}

// JobFailure is the error of a job that did not complete: its last event's
// details and action (the plugin's or the engine's words), or else its
// state.
func JobFailure(j *engineapi.Job) *Error {
	msg := fmt.Sprintf("The job %s (%s) %s.", j.Reference, j.Title, strings.ToLower(j.JobState))
	if j.JobState == engineapi.JobCanceled && len(j.Events) > 0 {
		// The last event says who canceled it and how the object was left.
		return &Error{Kind: KindJobFailed, Msg: termsafe.String(j.Events[len(j.Events)-1].MessageDetails)}
	}
	if n := len(j.Events); n > 0 {
		last := j.Events[n-1]
		msg = last.MessageDetails
		if last.MessageAction != nil && *last.MessageAction != "" {
			msg += "\nAction: " + *last.MessageAction
		}
	}
	return &Error{Kind: KindJobFailed, Msg: termsafe.String(msg)}
}
