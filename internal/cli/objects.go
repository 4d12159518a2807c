package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/fsutil"
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
	// Wait is always true: a command follows the job it starts (--wait
	// is taken, as dvp upload --wait is, so that dvp dsource sync NAME
	// --wait does what it says).
	Wait bool
}

func addObjectFlags(cmd *cobra.Command, o *ObjectOptions) {
	addConnectionFlags(cmd, &o.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	o.Timeout = 2 * time.Hour
	if name := cmd.Name(); name == "list" || name == "show" {
		return // they run no job: no --timeout to wait for one
	}
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the job at most")
	f.BoolVar(&o.Wait, "wait", true, "wait for the job to end and print what it made (always; --timeout bounds the wait)")
}

// objectRunE wraps a command body with the checks and the login every
// object command does.
func objectRunE(app *App, o *ObjectOptions, check func(cmd *cobra.Command, args []string) error, run func(ctx context.Context, c *engineclient.Client, args []string) error) func(*cobra.Command, []string) error {
	return runE(func(cmd *cobra.Command, args []string) error {
		if err := checkOutputFlag(&o.Output); err != nil {
			return err
		}
		if o.Timeout <= 0 {
			return Usagef("Invalid value for '--timeout': %s is not a positive duration.", o.Timeout)
		}
		if f := cmd.Flags().Lookup("wait"); f != nil && !o.Wait {
			return Usagef("Invalid value for '--wait': %s always waits for the job it starts (Ctrl-C stops waiting and leaves the job running; 'dvp job wait JOB' follows it again).", cmd.CommandPath())
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
		if name := cmd.Name(); name != "list" && name != "status" && name != "show" && name != "wait" {
			app.leave("the request may have reached the engine; '%s list' shows what it did", cmd.Parent().CommandPath())
		}
		return run(cmd.Context(), client, args)
	})
}

// JobReport is the JSON form of a command that ran a job. Result is the
// engine's answer to the request (the reference of the object the job
// works on); Snapshot and Status are what sync/snapshot and status
// produced.
type JobReport struct {
	Result   json.RawMessage `json:"result"`
	Action   string          `json:"action,omitempty"`
	Job      string          `json:"job,omitempty"`
	State    string          `json:"state,omitempty"`
	Events   []ReportEvent   `json:"events,omitempty"`
	Snapshot json.RawMessage `json:"snapshot,omitempty"`
	Status   string          `json:"status,omitempty"`
	Size     *int64          `json:"size,omitempty"` // status: the size source_size measured
	// Operations are the hooks of the dSource or VDB (status).
	Operations engineapi.HookOperations `json:"operations,omitempty"`
	// Policy is a status's dSource or VDB policy, with its next run.
	Policy *engineapi.Policy `json:"policy,omitempty"`
	// Deleted is what a delete command removed (its reference is also
	// the result).
	Deleted *DeletedObject `json:"deleted,omitempty"`
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

// jobResult finds what a completed job produced, for a command whose
// result is not the object it worked on: it fills the report's fields and
// returns the line printed on stdout in text.
type jobResult func(ctx context.Context, c *engineclient.Client, job *engineapi.Job, report *JobReport) (string, error)

// printJob follows the job a request started (if any) and prints the
// request's reference, as printJobResult does; when the request failed
// (err) it returns the error mapEngineError makes of it.
func printJob(ctx context.Context, app *App, o *ObjectOptions, c *engineclient.Client, s *engineclient.Started, err error) error {
	if err != nil {
		return mapEngineError(err)
	}
	return printJobResult(ctx, app, o, c, s, nil)
}

// printJobResult says on stderr which job a request started and how to
// follow or cancel it (so that an interrupted command can be followed
// up), then follows it (followJob).
func printJobResult(ctx context.Context, app *App, o *ObjectOptions, c *engineclient.Client, s *engineclient.Started, result jobResult) error {
	if s.Job != "" && app.Quiet == 0 {
		fmt.Fprintf(app.IO.Err, "Started job %s: 'dvp job wait %s' follows it, 'dvp job cancel %s' cancels it.\n",
			termsafe.String(s.Job), termsafe.String(s.Job), termsafe.String(s.Job))
	}
	return followJob(ctx, app, o, c, s, result)
}

// followJob waits for the job of s (if any), printing each of its events
// on stderr (with a progress line on a terminal), then prints the result:
// in text what result finds once the job completed (nil: the request's
// reference), in JSON a JobReport. A job that fails or is canceled is a
// user error with the job's message and action. dvp job wait calls it
// too, so that following a job again looks the same.
func followJob(ctx context.Context, app *App, o *ObjectOptions, c *engineclient.Client, s *engineclient.Started, result jobResult) error {
	report := JobReport{Result: s.Result, Action: s.Action, Job: s.Job}
	var job *engineapi.Job
	if s.Job != "" {
		ref := termsafe.String(s.Job)
		app.leave("job %s goes on running on the engine; follow it with 'dvp job wait %s' or cancel it with 'dvp job cancel %s'", ref, ref, ref)
		bar := startProgress(app, "job "+ref)
		var err error
		job, err = c.AwaitJob(ctx, s.Job, o.Timeout, func(ev engineapi.JobEvent) {
			if app.Quiet == 0 && ev.State == nil {
				bar.Println(app.IO.Err, termsafe.String(ev.Timestamp+" "+ev.MessageDetails))
				bar.Step(shortStep(termsafe.String(oneLine(ev.MessageDetails))))
			}
		})
		bar.Done()
		if job != nil {
			report.State, report.Events = job.JobState, reportEvents(job.Events)
		}
		var failed *engineclient.Error
		if errors.As(err, &failed) && failed.Kind == engineclient.KindJobFailed && o.Output == "json" {
			writeJSON(app, report)
		}
		if err != nil {
			return jobWaitError(err, ref)
		}
		if n := len(job.Events); n > 0 && app.Quiet == 0 {
			fmt.Fprintln(app.IO.Err, termsafe.String(job.Events[n-1].Timestamp+" "+job.Events[n-1].MessageDetails))
		}
	}
	var line string
	if json.Unmarshal(s.Result, &line) != nil {
		line = ""
	}
	if result != nil {
		var err error
		if line, err = result(ctx, c, job, &report); err != nil {
			return mapEngineError(err)
		}
	}
	if o.Output == "json" {
		return writeJSON(app, report)
	}
	if line != "" {
		fmt.Fprintln(app.resultOut(), termsafe.String(line))
	}
	return nil
}

// jobWaitError is the error of following job ref: when the engine stopped
// answering (it stopped, or the network failed), the job may still run or
// may have ended there, and the message says how to find out.
func jobWaitError(err error, ref string) error {
	var ce *engineclient.Error
	switch {
	case !errors.As(err, &ce):
	case ce.Kind == engineclient.KindNetwork:
		return Userf("%s\nThe engine stopped answering while dvp followed job %s: once it answers again, 'dvp job show %s' says what became of the job ('dvp job wait %s' follows it).", ce.Msg, ref, ref, ref)
	case ce.Kind == engineclient.KindHTTP && ce.Status == http.StatusUnauthorized:
		return Userf("%s\nThe engine no longer knows this command's session (it was restarted, or the session expired) while dvp followed job %s: 'dvp job show %s' says what became of the job ('dvp job wait %s' follows it).", ce.Msg, ref, ref, ref)
	}
	return mapEngineError(err)
}

// shortStep cuts an event's text for the progress line, which must fit
// on one line of a terminal to be redrawn in place.
func shortStep(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max-3]) + "..."
	}
	return s
}

// printDone reports a request on the object ref that ran no job: its
// result is ref (when the engine's answer is empty, as Delphix engines
// answer an update), printed on stdout or, with -o json, as the report's
// "result"; msg is said on stderr (unless -q).
func printDone(app *App, o *ObjectOptions, s *engineclient.Started, ref, msg string) error {
	result := s.Result
	var answer string
	if json.Unmarshal(result, &answer) != nil || answer == "" {
		result, _ = json.Marshal(ref)
		answer = ref
	}
	if o.Output == "json" {
		return writeJSON(app, JobReport{Result: result, Action: s.Action, Job: s.Job})
	}
	fmt.Fprintln(app.resultOut(), termsafe.String(answer))
	app.say("%s", msg)
	return nil
}

// newSnapshotResult is the result of a sync or a VDB snapshot: the
// snapshot its job took (the one whose job is the job's reference).
func newSnapshotResult(container string) jobResult {
	return func(ctx context.Context, c *engineclient.Client, job *engineapi.Job, report *JobReport) (string, error) {
		if job == nil {
			return "", &engineclient.Error{Kind: engineclient.KindLocal, Msg: "The engine started no job for the snapshot."}
		}
		var ref string
		json.Unmarshal(report.Result, &ref)
		if ref == "" {
			ref = container
		}
		snaps, err := c.ListSnapshots(ctx, ref)
		if err != nil {
			return "", err
		}
		for _, s := range snaps {
			if s.Job == job.Reference {
				report.Snapshot, _ = json.Marshal(s)
				return s.Reference, nil
			}
		}
		return "", &engineclient.Error{Kind: engineclient.KindLocal, Msg: fmt.Sprintf("The job %s completed, but no snapshot of %s names it; list them with dvp snapshot list %s.", job.Reference, container, container)}
	}
}

// statusResult is the result of status: the runtime status the job
// recorded on the dSource or VDB.
func statusResult(ctx context.Context, c *engineclient.Client, _ *engineapi.Job, report *JobReport) (string, error) {
	var ref string
	json.Unmarshal(report.Result, &ref)
	ct, err := c.GetContainer(ctx, ref)
	if err != nil {
		return "", err
	}
	report.Status, report.Policy, report.Size = ct.Runtime, ct.Policy, ct.Size
	return ct.Runtime, nil
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
// JSON object; a syntax error is placed (FILE:LINE:COL, or the column of
// the inline value).
func readParams(flag, v string) (json.RawMessage, error) {
	if v == "" {
		return json.RawMessage(`{}`), nil
	}
	data := []byte(v)
	file, fromFile := strings.CutPrefix(v, "@")
	if fromFile {
		b, err := fsutil.ReadRegular(file, maxParamsFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Usagef("Invalid value for '%s': File '%s' does not exist.", flag, file)
		} else if err != nil {
			return nil, Usagef("Invalid value for '%s': cannot read %s: %v.", flag, file, err)
		}
		data = b
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		where := ""
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := jsonPosition(data, syn)
			switch {
			case fromFile:
				where = fmt.Sprintf("%s:%d:%d: ", file, line, col)
			case line == 1:
				where = fmt.Sprintf("column %d: ", col)
			default:
				where = fmt.Sprintf("line %d, column %d: ", line, col)
			}
		}
		return nil, Usagef("Invalid value for '%s': %s%s (give a JSON object, or @FILE for a file holding one).", flag, where, termsafe.String(strings.TrimPrefix(err.Error(), "json: ")))
	}
	if _, ok := doc.(map[string]any); !ok {
		in := ""
		if fromFile {
			in = " in " + file
		}
		return nil, Usagef("Invalid value for '%s': the JSON%s is %s, not an object (give a JSON object such as '{\"name\": \"x\"}', or @FILE for a file holding one).", flag, in, jsonKind(doc))
	}
	return json.RawMessage(data), nil
}

// jsonPosition is the line and column (1-based, in characters) of a JSON
// syntax error in data: the character that is wrong, or the end of data
// when it ends too soon.
func jsonPosition(data []byte, syn *json.SyntaxError) (line, col int) {
	pos := int(syn.Offset) - 1 // the offset is just after the wrong byte
	if pos < 0 || strings.HasPrefix(syn.Error(), "unexpected end") {
		pos = int(syn.Offset)
	}
	pos = min(max(pos, 0), len(data))
	before := data[:pos]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[start:]) + 1
}

// jsonKind names the kind of a decoded JSON value that is not an object.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// listColumns describe a list in text: the header row printed above it
// on a terminal, and what is said (on stderr) when it is empty.
type listColumns struct {
	Header []string
	Empty  string
}

// printList prints a list of objects: in text one line per object, the
// cells row gives separated by tabs (on a terminal: aligned, under a
// header row); in JSON the list, each object with its keys sorted. An
// empty list says so on stderr, in text.
func printList[T any](app *App, o *ObjectOptions, items []T, err error, cols listColumns, row func(T) []any) error {
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
	if len(items) == 0 {
		if app.Quiet == 0 && cols.Empty != "" {
			fmt.Fprintln(app.IO.Err, cols.Empty)
		}
		return nil
	}
	out := app.resultOut()
	var tw *tabwriter.Writer
	if app.IO.StdoutIsTerminal && len(cols.Header) > 0 {
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		out = tw
		fmt.Fprintln(out, strings.Join(cols.Header, "\t"))
	}
	for _, it := range items {
		var cells []string
		for _, v := range row(it) {
			// A cell is one line: no newline or tab of a value breaks the
			// columns, no control character reaches the terminal.
			cells = append(cells, strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(termsafe.String(cell(v))))
		}
		fmt.Fprintln(out, strings.Join(cells, "\t"))
	}
	if tw != nil {
		return tw.Flush()
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

// maxParamsFile bounds an @FILE of --params; a device or FIFO is refused
// (fsutil.ReadRegular).
const maxParamsFile = 16 << 20
