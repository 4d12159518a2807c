package dvptest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	r := &Report{Spec: "dvptest.yml", Duration: 3 * time.Second, Scenarios: []*ScenarioResult{
		{Name: "ok", Status: StatusPassed, Duration: time.Second, Steps: []*StepResult{
			{Index: 1, Name: "link ds1", Action: "link", Status: StatusPassed, Duration: 500 * time.Millisecond},
		}},
		{Name: "broken", Status: StatusFailed, Duration: time.Second, PluginLog: "ERROR pre_snapshot \x1b[31m failed", Steps: []*StepResult{
			{Index: 1, Name: "link ds1", Action: "link", Status: StatusFailed, Message: "The plugin operation linked.pre_snapshot() failed: <broken> & \"bad\"", Output: "Output:\nrsync: error 23"},
			{Index: 2, Name: "sync ds1", Action: "sync", Status: StatusSkipped},
		}},
	}}
	r.count()
	return r
}

// The JUnit report has the shape CI systems read: testsuites, one
// testsuite per scenario, one testcase per step, a failure with its
// message and text, skipped steps, counts that add up; text that is not
// XML (a terminal escape from a plugin) does not break it.
func TestJUnitShape(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Tests     int    `xml:"tests,attr"`
			Failures  int    `xml:"failures,attr"`
			SystemErr string `xml:"system-err"`
			Cases     []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("counts: %+v", doc)
	}
	s := doc.Suites[1]
	if s.Name != "broken" || s.Tests != 2 || s.Failures != 1 || !strings.Contains(s.SystemErr, "pre_snapshot") {
		t.Errorf("suite: %+v", s)
	}
	c := s.Cases[0]
	if c.Name != "1 link ds1" || c.Classname != "broken" || c.Time != "0.000" || c.Failure == nil ||
		c.Failure.Message != `The plugin operation linked.pre_snapshot() failed: <broken> & "bad"` || !strings.Contains(c.Failure.Text, "rsync: error 23") {
		t.Errorf("failed case: %+v", c)
	}
	if s.Cases[1].Skipped == nil || s.Cases[1].Failure != nil {
		t.Errorf("skipped case: %+v", s.Cases[1])
	}
}

func TestJSONReport(t *testing.T) {
	var b bytes.Buffer
	r := sampleReport()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Passed, Failed int
		Scenarios      []struct {
			Name, Status string
			Steps        []struct{ Status, Message string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Passed != 1 || v.Failed != 1 || v.Scenarios[1].Steps[0].Status != StatusFailed || v.Scenarios[1].Steps[1].Status != StatusSkipped {
		t.Errorf("%+v", v)
	}
	if strings.Contains(b.String(), "\x1b") || r.OK() {
		t.Errorf("a terminal escape reached the JSON, or a failed report is OK:\n%s", b.String())
	}
}

// docs/dvp-test.md names every field of the -o json report, so that a
// script reading it knows the whole shape.
func TestJSONReportFieldsAreDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "dvp-test.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "* `-o json`")
	if start < 0 {
		t.Fatal("docs/dvp-test.md has no paragraph on -o json")
	}
	doc = doc[start:]
	if end := strings.Index(doc, "\n## "); end >= 0 {
		doc = doc[:end]
	}
	for _, v := range []any{Report{}, ScenarioResult{}, StepResult{}, Kept{}} {
		ty := reflect.TypeOf(v)
		for i := 0; i < ty.NumField(); i++ {
			name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("docs/dvp-test.md does not name the JSON field %s.%s (`%s`)", ty.Name(), ty.Field(i).Name, name)
			}
		}
	}
}
