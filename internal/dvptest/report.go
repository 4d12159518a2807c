package dvptest

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/termsafe"
)

// Statuses of scenarios and steps.
const (
	StatusPassed      = "passed"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
)

// Report is what a run did, scenario by scenario (the JSON of -o json).
type Report struct {
	Spec        string            `json:"spec"`
	Engine      string            `json:"engine,omitempty"`
	Passed      int               `json:"passed"`
	Failed      int               `json:"failed"`
	Skipped     int               `json:"skipped"`
	Interrupted bool              `json:"interrupted"`
	Duration    time.Duration     `json:"-"`
	Seconds     float64           `json:"seconds"`
	Error       string            `json:"error,omitempty"` // what stopped the run before its scenarios
	Scenarios   []*ScenarioResult `json:"scenarios"`
	// CleanupProblems are what could not be undone at the end.
	CleanupProblems []string `json:"cleanupProblems,omitempty"`
	Kept            *Kept    `json:"kept,omitempty"`
}

// ScenarioResult is one scenario's outcome.
type ScenarioResult struct {
	Name            string        `json:"name"`
	Line            int           `json:"line"`
	Status          string        `json:"status"`
	Message         string        `json:"message,omitempty"`
	Duration        time.Duration `json:"-"`
	Seconds         float64       `json:"seconds"`
	Steps           []*StepResult `json:"steps"`
	PluginLog       string        `json:"pluginLog,omitempty"` // the last lines of the plugin's debug.log after a failure
	CleanupProblems []string      `json:"cleanupProblems,omitempty"`
}

// StepResult is one step's outcome. Index 0 is the scenario's set-up.
type StepResult struct {
	Index    int           `json:"index"`
	Name     string        `json:"name"`
	Action   string        `json:"action"`
	Line     int           `json:"line"`
	Status   string        `json:"status"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Message  string        `json:"message,omitempty"`
	Output   string        `json:"output,omitempty"`
}

// Kept is what --keep left running and on disk.
type Kept struct {
	Dir          string `json:"dir"`
	Engine       string `json:"engine"`
	Pid          int    `json:"pid,omitempty"`
	DataDir      string `json:"dataDir,omitempty"`
	EngineLog    string `json:"engineLog,omitempty"`
	PluginLogs   string `json:"pluginLogs,omitempty"`
	PasswordFile string `json:"passwordFile,omitempty"`
}

func (r *Report) count() {
	r.Passed, r.Failed, r.Skipped = 0, 0, 0
	r.Seconds = r.Duration.Seconds()
	for _, sc := range r.Scenarios {
		sc.Seconds = sc.Duration.Seconds()
		for _, st := range sc.Steps {
			st.Seconds = st.Duration.Seconds()
		}
		switch sc.Status {
		case StatusPassed:
			r.Passed++
		case StatusSkipped:
			r.Skipped++
		case StatusInterrupted:
			// Neither passed nor failed: Interrupted says the run was
			// stopped, InterruptedScenarios counts them.
		default:
			r.Failed++
		}
	}
}

// InterruptedScenarios counts the scenarios a signal stopped while they
// ran (not failed: Failed leaves them out).
func (r *Report) InterruptedScenarios() int {
	n := 0
	for _, sc := range r.Scenarios {
		if sc.Status == StatusInterrupted {
			n++
		}
	}
	return n
}

// OK reports whether every scenario passed and nothing stopped the run.
func (r *Report) OK() bool {
	return r.Error == "" && r.Failed == 0 && r.Skipped == 0 && !r.Interrupted
}

// Printer is told of the run as it goes.
type Printer interface {
	Phase(what string)
	PhaseDone(what string, d time.Duration, err error)
	ScenarioStart(name string)
	StepStart(st *StepResult)
	StepDone(st *StepResult)
	ScenarioDone(sc *ScenarioResult)
}

type nopPrinter struct{}

func (nopPrinter) Phase(string)                           {}
func (nopPrinter) PhaseDone(string, time.Duration, error) {}
func (nopPrinter) ScenarioStart(string)                   {}
func (nopPrinter) StepStart(*StepResult)                  {}
func (nopPrinter) StepDone(*StepResult)                   {}
func (nopPrinter) ScenarioDone(*ScenarioResult)           {}

// TextPrinter prints one line per step with its duration; on a terminal
// (TTY) the step running is shown until it ends.
type TextPrinter struct {
	W   io.Writer
	TTY bool
	mu  sync.Mutex
}

func (p *TextPrinter) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.W, format, args...)
}

func (p *TextPrinter) running(what string) {
	if p.TTY {
		p.printf("\r\033[K  ...   %s\r", termsafe.String(what))
	}
}

func (p *TextPrinter) clear() string {
	if p.TTY {
		return "\r\033[K"
	}
	return ""
}

func (p *TextPrinter) Phase(what string) { p.running(what) }

func (p *TextPrinter) PhaseDone(what string, d time.Duration, err error) {
	mark := "ok  "
	switch {
	case errors.Is(err, errPhaseInterrupted):
		mark = "INT "
	case err != nil:
		mark = "FAIL"
	}
	p.printf("%s  %s  %-40s %s\n", p.clear(), mark, termsafe.String(what), round(d))
	if err != nil {
		p.printf("%s", indent(termsafe.String(err.Error()), "        "))
	}
}

func (p *TextPrinter) ScenarioStart(name string) {
	p.printf("=== %s\n", termsafe.String(name))
}

func (p *TextPrinter) StepStart(st *StepResult) {
	p.running(fmt.Sprintf("%d %s", st.Index, st.Name))
}

func (p *TextPrinter) StepDone(st *StepResult) {
	mark := map[string]string{StatusPassed: "ok  ", StatusFailed: "FAIL", StatusInterrupted: "INT ", StatusSkipped: "skip"}[st.Status]
	p.printf("%s  %s  %-40s %s\n", p.clear(), mark, termsafe.String(fmt.Sprintf("%d %s", st.Index, st.Name)), round(st.Duration))
	if st.Message != "" {
		p.printf("%s", indent(termsafe.String(st.Message), "        "))
	}
	if st.Output != "" {
		p.printf("%s", indent(termsafe.String(clipLines(st.Output, maxFailureOutputLine)), "        | "))
	}
}

func (p *TextPrinter) ScenarioDone(sc *ScenarioResult) {
	for _, st := range sc.Steps {
		if st.Status == StatusSkipped {
			p.printf("  skip  %d %s\n", st.Index, termsafe.String(st.Name))
		}
	}
	if sc.PluginLog != "" {
		p.printf("        the plugin's debug.log ends with:\n%s", indent(termsafe.String(sc.PluginLog), "        | "))
	}
	for _, c := range sc.CleanupProblems {
		p.printf("  clean-up: %s\n", termsafe.String(c))
	}
	word := map[string]string{StatusPassed: "PASS", StatusFailed: "FAIL", StatusInterrupted: "INTERRUPTED"}[sc.Status]
	p.printf("--- %s %s (%s)\n", word, termsafe.String(sc.Name), round(sc.Duration))
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func clipLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(termsafe.JSON(append(b, '\n')))
	return err
}

// The JUnit XML shape CI systems read: testsuites > testsuite (one per
// scenario) > testcase (one per step), with failure and skipped elements.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
	SystemErr string      `xml:"system-err,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	all := junitSuites{Name: "dvp test", Time: secs(r.Duration)}
	if r.Error != "" && len(r.Scenarios) == 0 {
		all.Suites = append(all.Suites, junitSuite{Name: "prepare", Tests: 1, Failures: 1, Time: "0.000",
			Cases: []junitCase{{Name: "build, engine and upload", Classname: "prepare", Time: "0.000", Failure: &junitFailure{Message: oneLine(r.Error), Type: "error", Text: r.Error}}}})
	}
	for _, sc := range r.Scenarios {
		s := junitSuite{Name: sc.Name, Time: secs(sc.Duration)}
		for _, st := range sc.Steps {
			c := junitCase{Name: fmt.Sprintf("%d %s", st.Index, st.Name), Classname: sc.Name, Time: secs(st.Duration)}
			switch st.Status {
			case StatusFailed, StatusInterrupted:
				text := st.Message
				if st.Output != "" {
					text += "\n" + st.Output
				}
				c.Failure = &junitFailure{Message: oneLine(st.Message), Type: st.Status, Text: text}
				s.Failures++
			case StatusSkipped:
				msg := "an earlier step failed"
				if sc.Message != "" {
					msg = sc.Message
				}
				c.Skipped = &junitSkipped{Message: msg}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		if sc.PluginLog != "" {
			s.SystemErr = sc.PluginLog
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
