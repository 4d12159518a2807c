package upload

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// API calls of the engine's data objects (environments, source configs,
// dSources, VDBs, snapshots, jobs), used by the dvp environment, source-config,
// dsource, snapshot and vdb commands. See docs/engine.md.

// PostResult is the answer to a POST: its result, and the job and action
// it started (empty when none).
type PostResult struct {
	Result json.RawMessage
	Job    string
	Action string
}

// Post sends body as JSON to path (under /resources/json/) and returns the
// OKResult's result, job and action; an ErrorResult is an *Error.
func (c *Client) Post(ctx context.Context, path string, body any) (*PostResult, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	env, err := c.post(ctx, request{path: path, body: b})
	if err != nil {
		return nil, err
	}
	out := &PostResult{Result: env.Result}
	if env.Job != nil {
		out.Job = *env.Job
	}
	if env.Action != nil {
		out.Action = *env.Action
	}
	return out, nil
}

// Get reads path and returns the result of its OKResult or ListResult.
func (c *Client) Get(ctx context.Context, path string) (json.RawMessage, error) {
	resp, err := c.get(ctx, path, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.close()
	var env envelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, unexpected(resp.status, string(resp.body))
	}
	if env.Type == "ErrorResult" {
		return nil, httpError(resp.status, env.Error)
	}
	return env.Result, nil
}

// PathEscape escapes a reference or name for a path segment.
func PathEscape(s string) string { return url.PathEscape(s) }

// JobEvent is one event of a job.
type JobEvent struct {
	Timestamp      string  `json:"timestamp"`
	State          *string `json:"state"`
	Percent        float64 `json:"percentComplete"`
	MessageCode    string  `json:"messageCode"`
	MessageDetails string  `json:"messageDetails"`
	MessageAction  *string `json:"messageAction"`
	EventType      string  `json:"eventType"`
}

// Job is a job as GET delphix/job/<ref> returns it.
type Job struct {
	Reference string     `json:"reference"`
	Title     string     `json:"title"`
	JobState  string     `json:"jobState"`
	Target    *string    `json:"target"`
	Percent   float64    `json:"percentComplete"`
	Events    []JobEvent `json:"events"`
}

// FollowJob polls a job until it is no longer RUNNING, calling onEvent
// once for each new event, and returns the final job.
func (c *Client) FollowJob(ctx context.Context, job string, timeout time.Duration, onEvent func(JobEvent)) (*Job, error) {
	if timeout <= 0 {
		timeout = time.Hour
	}
	deadline := time.Now().Add(timeout)
	interval := 200 * time.Millisecond
	seen := 0
	for {
		raw, err := c.Get(ctx, "delphix/job/"+PathEscape(job))
		if err != nil {
			return nil, err
		}
		var j Job
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, unexpected(200, string(raw))
		}
		for ; seen < len(j.Events); seen++ {
			if onEvent != nil {
				onEvent(j.Events[seen])
			}
		}
		if j.JobState != "RUNNING" {
			return &j, nil
		}
		if time.Now().After(deadline) {
			return &j, &Error{Kind: KindWaitTimedOut, Msg: fmt.Sprintf("Timed out waiting for job %s (%s) to end; it is still running on the engine.", job, j.Title)}
		}
		select {
		case <-ctx.Done():
			return &j, &Error{Kind: KindLocal, Msg: fmt.Sprintf("Stopped waiting for job %s: %v. It goes on running on the engine.", job, ctx.Err()), Err: ctx.Err()}
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 2*time.Second)
	}
}
