package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
)

// The job commands: the jobs that link, sync, provision, refresh, ...
// started on the engine, listed, shown, followed again and canceled
// (docs/workflows.md, "Jobs").

// JobListOptions are the inputs of dvp job list.
type JobListOptions struct {
	ObjectOptions
	Running bool
	Object  string
}

func newJobCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "List, show, follow and cancel the engine's jobs",
		Long: `Every command that changes a dSource, a VDB or an environment runs a job on the
engine and prints its reference first (on stderr), for example:

  Started job JOB-7: 'dvp job wait JOB-7' follows it, 'dvp job cancel JOB-7' cancels it.

The job goes on running on the engine when the command is interrupted
(Ctrl-C) or its --timeout passes: 'dvp job wait JOB-7' follows it again with
the output and exit code of the command that started it, 'dvp job cancel
JOB-7' stops it. A job that waits for another one on the same object says
"Queued behind JOB-n (...)"; a long one says every 30 s that it still runs
(dvp engine serve --job-heartbeat), and the output of the commands its plugin
runs is part of its events (at most 500 lines, each cut at 512 bytes).

A job ends COMPLETED (exit 0), FAILED or CANCELED (exit 1).`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newJobListCmd(app), newJobShowCmd(app), newJobWaitCmd(app), newJobCancelCmd(app))
	})
	return cmd
}

func newJobListCmd(app *App) *cobra.Command {
	o := JobListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--running] [--object NAME]",
		Short: "List the jobs, oldest first",
		Long: `List prints one line per job: its reference, state, title, the object it works
on and when it started. --running lists the running jobs only (those queued
behind another job say QUEUED), --object the jobs of one dSource, VDB or
environment (name or reference; also of one deleted since, by its name): a
name that is neither on the engine nor in any job is an error (exit 1).
-o json prints the jobs as the engine returns them.`,
		Example: `  dvp job list --running
  dvp job list --object ds1 -o json`,
		Args: cobra.NoArgs,
		RunE: objectRunE(app, &o.ObjectOptions, nil, func(ctx context.Context, c *engineclient.Client, _ []string) error {
			state := ""
			if o.Running {
				state = engineapi.JobRunning
			}
			js, err := c.ListJobs(ctx, state, o.Object)
			if err == nil && len(js) == 0 && o.Object != "" {
				if err := checkJobObject(ctx, c, state, o.Object); err != nil {
					return err
				}
			}
			empty := "No jobs."
			if o.Running || o.Object != "" {
				empty = "No jobs match."
			}
			return printList(app, &o.ObjectOptions, js, err, listColumns{Header: []string{"REFERENCE", "STATE", "TITLE", "OBJECT", "STARTED"}, Empty: empty}, func(j engineapi.Job) []any {
				return []any{j.Reference, jobState(&j), j.Title, deref(j.TargetName), j.StartTime}
			})
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.BoolVar(&o.Running, "running", false, "list only the jobs that run or wait to run")
	f.StringVar(&o.Object, "object", "", "list only the jobs of this dSource, VDB or environment (name or reference)")
	return cmd
}

// checkJobObject is called when no job (in state) matches --object NAME: an object
// that is on the engine has no jobs (yet), one that is not is a mistyped
// name, an error as in dvp snapshot list (exit 1). A deleted object's jobs
// are still listed by its name: those were found before this is asked.
func checkJobObject(ctx context.Context, c *engineclient.Client, state, name string) error {
	if state != "" {
		// No running job: any other job of that name?
		js, err := c.ListJobs(ctx, "", name)
		if err != nil {
			return mapEngineError(err)
		}
		if len(js) > 0 {
			return nil
		}
	}
	cs, err := c.ListContainers(ctx)
	if err != nil {
		return mapEngineError(err)
	}
	for _, ct := range cs {
		if ct.Reference == name || ct.Name == name {
			return nil
		}
	}
	envs, err := c.ListEnvironments(ctx)
	if err != nil {
		return mapEngineError(err)
	}
	for _, env := range envs {
		if env.Reference == name || env.Name == name {
			return nil
		}
	}
	return Userf("The dSource, VDB or environment %q does not exist on this engine, and no job worked on one of that name.\n"+
		"List them with 'dvp dsource list' (dSources and VDBs) and 'dvp environment list'.", termsafe.String(name))
}

// jobState is a job's state as lists show it: QUEUED for a running job
// that waits behind another.
func jobState(j *engineapi.Job) string {
	if j.JobState == engineapi.JobRunning && j.Queued {
		return "QUEUED"
	}
	return j.JobState
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func newJobShowCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "show JOB",
		Short: "Show a job: its state, object, events and the plugin's message",
		Long: `Show prints a job: its state, what it does, the object it works on, its events
(the plugin operations it ran, their commands' output, heartbeats) and, when
it failed, the message and action of the plugin or the engine. -o json
prints the job as the engine returns it.`,
		Example: `  dvp job show JOB-7`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			j, err := c.GetJob(ctx, args[0])
			if err != nil {
				return mapEngineError(err)
			}
			if o.Output == "json" {
				return writeJSON(app, j)
			}
			writeJobText(app.resultOut(), j)
			return nil
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

// writeJobText writes a job as dvp job show prints it.
func writeJobText(w io.Writer, j *engineapi.Job) {
	line := func(k, v string) {
		fmt.Fprintf(w, "%-10s%s\n", k+":", strings.NewReplacer("\n", "\n          ").Replace(termsafe.String(v)))
	}
	line("Job", j.Reference)
	line("State", jobState(j))
	line("Title", j.Title)
	if j.Target != nil {
		line("Object", fmt.Sprintf("%s (%s)", deref(j.TargetName), *j.Target))
	}
	line("Started", j.StartTime)
	line("Updated", j.UpdateTime)
	line("Progress", fmt.Sprintf("%.0f%%", j.PercentComplete))
	fmt.Fprintln(w, "Events:")
	for _, ev := range j.Events {
		fmt.Fprintf(w, "  %s %s %s\n", termsafe.String(ev.Timestamp), termsafe.String(ev.EventType),
			strings.NewReplacer("\n", "\n    ").Replace(termsafe.String(ev.MessageDetails)))
	}
	if j.JobState != engineapi.JobRunning && j.JobState != engineapi.JobCompleted && len(j.Events) > 0 {
		last := j.Events[len(j.Events)-1]
		line("Message", last.MessageDetails)
		if last.MessageAction != nil && *last.MessageAction != "" {
			line("Action", *last.MessageAction)
		}
	}
}

func newJobWaitCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "wait JOB",
		Short: "Follow a job again until it ends",
		Long: `Wait follows a job as the command that started it did: its events on stderr
(with a progress line on a terminal), then its object's reference on stdout
(-o json: the job's report), and the same exit code: 0 when it completes, 1
when it fails or is canceled. A job that has ended already is printed at
once. Ctrl-C stops waiting, not the job.`,
		Example: `  dvp dsource sync ds1      # Ctrl-C: "Interrupted (SIGINT): job JOB-7 goes on running ..."
  dvp job wait JOB-7`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			j, err := c.GetJobSince(ctx, args[0], 1<<30) // its state and object, without its events
			if err != nil {
				return mapEngineError(err)
			}
			s := &engineclient.Started{Job: j.Reference, Action: j.ParentAction}
			if j.Target != nil {
				s.Result, _ = json.Marshal(*j.Target)
			}
			var result jobResult // as the command that started it prints
			switch j.ActionType {
			case "DB_SYNC", "DB_SNAPSHOT":
				result = newSnapshotResult(deref(j.TargetName))
			case "DB_STATUS":
				result = statusResult
			}
			return followJob(ctx, app, &o, c, s, result)
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newJobCancelCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "cancel JOB",
		Short: "Cancel a running job",
		Long: `Cancel asks the engine to stop a running job: it cancels the plugin operation
and the commands the plugin runs (their processes end), puts the object back
in a defined state (a sync's unfinished snapshot is removed; a link or
provision that did not finish removes its dSource or VDB; dvp help workflows
lists each operation) and marks the job CANCELED. Cancel waits for that (at
most --timeout), printing the job's last events on stderr, then prints the
job's final state on stdout. A queued job is canceled before it runs.

A job that is no longer running is not changed: cancel says how it ended and
exits 1.`,
		Example: `  dvp job cancel JOB-7`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			j, err := c.CancelJob(ctx, args[0])
			if err != nil {
				return mapEngineError(err)
			}
			ref := termsafe.String(j.Reference)
			app.leave("the engine is canceling job %s; 'dvp job show %s' says when it has ended", ref, ref)
			if j.JobState == engineapi.JobRunning {
				j, err = c.FollowJob(ctx, j.Reference, o.Timeout, nil)
				if err != nil {
					return mapEngineError(err)
				}
			}
			if n := len(j.Events); n > 0 && app.Quiet == 0 {
				fmt.Fprintln(app.IO.Err, termsafe.String(j.Events[n-1].Timestamp+" "+j.Events[n-1].MessageDetails))
			}
			if o.Output == "json" {
				if err := writeJSON(app, j); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(app.resultOut(), termsafe.String(j.JobState))
			}
			if j.JobState != engineapi.JobCanceled {
				return Userf("The job %s ended %s before the cancellation took effect.", ref, j.JobState)
			}
			return nil
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}
