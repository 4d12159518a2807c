package engineclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/termsafe"
)

// GetJob reads a job.
func (c *Client) GetJob(ctx context.Context, ref string) (*engineapi.Job, error) {
	var j engineapi.Job
	if err := c.GetResult(ctx, engineapi.JobPath(ref), &j); err != nil {
		return nil, err
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
// once for each new event, and returns the final job. Past the timeout (0:
// an hour) or when ctx ends it returns the job as last read with an
// *Error: the job goes on running on the engine.
func (c *Client) FollowJob(ctx context.Context, job string, timeout time.Duration, onEvent func(engineapi.JobEvent)) (*engineapi.Job, error) {
	if timeout <= 0 {
		timeout = time.Hour
	}
	deadline := time.Now().Add(timeout)
	interval := 200 * time.Millisecond
	seen := 0
	for {
		j, err := c.GetJob(ctx, job)
		if err != nil {
			return nil, err
		}
		for ; seen < len(j.Events); seen++ {
			if onEvent != nil {
				onEvent(j.Events[seen])
			}
		}
		if j.JobState != engineapi.JobRunning {
			return j, nil
		}
		if time.Now().After(deadline) {
			return j, &Error{Kind: KindWaitTimedOut, Msg: fmt.Sprintf("Timed out waiting for job %s (%s) to end; it is still running on the engine.", job, j.Title)}
		}
		select {
		case <-ctx.Done():
			return j, &Error{Kind: KindLocal, Msg: fmt.Sprintf("Stopped waiting for job %s: %v. It goes on running on the engine.", job, ctx.Err()), Err: ctx.Err()}
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
	if n := len(j.Events); n > 0 {
		last := j.Events[n-1]
		msg = last.MessageDetails
		if last.MessageAction != nil && *last.MessageAction != "" {
			msg += "\nAction: " + *last.MessageAction
		}
	}
	return &Error{Kind: KindJobFailed, Msg: termsafe.String(msg)}
}
