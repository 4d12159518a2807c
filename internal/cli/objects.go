package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
)

// The engine-object commands (environment, source-config, dsource,
// snapshot, vdb) share their flags, their login, and how they print a job
// and a list. The requests are the engine client's (internal/engineclient).

// ObjectOptions are the options every engine-object command shares: the
// engine connection of upload, --output and --timeout.
type ObjectOptions struct {
	ConnectionOptions
	Output  string
	Timeout time.Duration
}

func addObjectFlags(cmd *cobra.Command, o *ObjectOptions) {
	addConnectionFlags(cmd, &o.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Hour, "how long to wait for the job at most")
}

// objectRunE wraps a command body with the checks and the login every
// object command does.
func objectRunE(app *App, o *ObjectOptions, check func(cmd *cobra.Command, args []string) error, run func(ctx context.Context, c *engineclient.Client, args []string) error) func(*cobra.Command, []string) error {
	return runE(func(cmd *cobra.Command, args []string) error {
		if err := checkOutputFlag(o.Output); err != nil {
			return err
		}
		if o.Timeout <= 0 {
			return Usagef("Invalid value for '--timeout': %s is not a positive duration.", o.Timeout)
		}
		conn, err := resolveConnection(cmd.Context(), app, cmd, &o.ConnectionOptions, func() error {
			if check != nil {
				return check(cmd, args)
			}
			return nil
		})
		if err != nil {
			return err
		}
		client, err := newClient(app, &o.ConnectionOptions, conn)
		if err != nil {
			return err
		}
		if err := client.Login(cmd.Context(), artifact.EngineAPIVersion, conn.user, conn.password); err != nil {
			return mapEngineError(err)
		}
		if name := cmd.Name(); name != "list" && name != "status" && name != "show" {
			app.leave("the request may have reached the engine; '%s list' shows what it did", cmd.Parent().CommandPath())
		}
		return run(cmd.Context(), client, args)
	})
}

// JobReport is the JSON form of a command that ran a job.
type JobReport struct {
	Result json.RawMessage `json:"result"`
	Action string          `json:"action,omitempty"`
	Job    string          `json:"job,omitempty"`
	State  string          `json:"state,omitempty"`
	Events []ReportEvent   `json:"events,omitempty"`
}

// ReportEvent is a job event in a JobReport.
type ReportEvent struct {
	Timestamp      string  `json:"timestamp"`
	State          *string `json:"state"`
	Percent        float64 `json:"percentComplete"`
	MessageCode    string  `json:"messageCode"`
	MessageDetails string  `json:"messageDetails"`
	MessageAction  *string `json:"messageAction"`
	EventType      string  `json:"eventType"`
}

func reportEvents(evs []engineapi.JobEvent) []ReportEvent {
	var out []ReportEvent
	for _, ev := range evs {
		out = append(out, ReportEvent{Timestamp: ev.Timestamp, State: ev.State, Percent: ev.PercentComplete, MessageCode: ev.MessageCode,
			MessageDetails: ev.MessageDetails, MessageAction: ev.MessageAction, EventType: ev.EventType})
	}
	return out
}

// printJob waits for the job a request started (if any), printing each of
// its events on stderr, then prints the result: the reference in text, a
// JobReport in JSON. A job that fails is a user error with the job's
// message and action.
func printJob(ctx context.Context, app *App, o *ObjectOptions, c *engineclient.Client, s *engineclient.Started) error {
	report := JobReport{Result: s.Result, Action: s.Action, Job: s.Job}
	if s.Job != "" {
		app.leave("job %s goes on running on the engine", termsafe.String(s.Job))
		job, err := c.AwaitJob(ctx, s.Job, o.Timeout, func(ev engineapi.JobEvent) {
			if app.Quiet == 0 && ev.State == nil {
				fmt.Fprintln(app.IO.Err, termsafe.String(ev.Timestamp+" "+ev.MessageDetails))
			}
		})
		if job != nil {
			report.State, report.Events = job.JobState, reportEvents(job.Events)
		}
		var failed *engineclient.Error
		if errors.As(err, &failed) && failed.Kind == engineclient.KindJobFailed && o.Output == "json" {
			writeJSON(app, report)
		}
		if err != nil {
			return mapEngineError(err)
		}
		if n := len(job.Events); n > 0 && app.Quiet == 0 {
			fmt.Fprintln(app.IO.Err, termsafe.String(job.Events[n-1].Timestamp+" "+job.Events[n-1].MessageDetails))
		}
	}
	if o.Output == "json" {
		return writeJSON(app, report)
	}
	var ref string
	if json.Unmarshal(s.Result, &ref) == nil && ref != "" {
		fmt.Fprintln(app.resultOut(), termsafe.String(ref))
	}
	return nil
}

// writeJSON prints v as indented JSON, with the characters a terminal acts
// on escaped in its strings (termsafe.JSON).
func writeJSON(app *App, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := app.resultOut().Write(termsafe.JSON(buf.Bytes()))
	return err
}

// readParams reads --params: inline JSON, or @FILE. The value must be a
// JSON object.
func readParams(flag, v string) (json.RawMessage, error) {
	if v == "" {
		return json.RawMessage(`{}`), nil
	}
	data := []byte(v)
	if strings.HasPrefix(v, "@") {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, Usagef("Invalid value for '%s': cannot read %s: %v.", flag, v[1:], err)
		}
		data = b
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		why := "it is not a JSON object"
		if err != nil {
			why = err.Error()
		}
		return nil, Usagef("Invalid value for '%s': %s (give a JSON object, or @FILE for a file holding one).", flag, why)
	}
	return json.RawMessage(data), nil
}

// printList prints a list of objects: in text one line per object, the
// cells row gives separated by tabs; in JSON the list, each object with
// its keys sorted.
func printList[T any](app *App, o *ObjectOptions, items []T, err error, row func(T) []any) error {
	if err != nil {
		return mapEngineError(err)
	}
	if o.Output == "json" {
		var v any
		b, err := json.Marshal(items)
		if err != nil {
			return err
		}
		json.Unmarshal(b, &v)
		return writeJSON(app, v)
	}
	for _, it := range items {
		var cols []string
		for _, v := range row(it) {
			// A cell is one line: no newline or tab of a value breaks the
			// columns, no control character reaches the terminal.
			cols = append(cols, strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(termsafe.String(cell(v))))
		}
		fmt.Fprintln(app.resultOut(), strings.Join(cols, "\t"))
	}
	return nil
}

// cell is a value as a column shows it: a string as it is, anything else
// (JSON documents such as plugin parameters, booleans) as compact JSON.
func cell(v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		v = nil
		json.Unmarshal(raw, &v)
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
