//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/store"
)

// rawClient is a logged-in session of the API over plain net/http, for
// benchmarks that send many requests.
type rawClient struct {
	base, cookie string
	hc           *http.Client
}

func newRawClient(tb testing.TB, base string) *rawClient {
	c := &rawClient{base: base, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	for _, r := range []struct{ path, body string }{
		{"delphix/session", `{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}`},
		{"delphix/login", `{"type": "LoginRequest", "username": "admin", "password": "` + adminPassword + `"}`},
	} {
		resp, b := c.do(tb, "POST", r.path, "application/json", []byte(r.body))
		if resp.StatusCode != 200 {
			tb.Fatalf("%s: %s", r.path, b)
		}
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			c.cookie, _, _ = strings.Cut(sc, ";")
		}
	}
	return c
}

func (c *rawClient) do(tb testing.TB, method, path, ctype string, body []byte) (*http.Response, []byte) {
	req, _ := http.NewRequest(method, c.base+"/resources/json/"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// get sends a GET that must answer 200 and returns the body's size.
func (c *rawClient) get(tb testing.TB, path string) int {
	resp, b := c.do(tb, "GET", path, "application/json", nil)
	if resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %d %.300s", path, resp.StatusCode, b)
	}
	return len(b)
}

// installPlugins uploads n new plugins (distinct ids), 8 at a time.
func installPlugins(tb testing.TB, base string, n int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newRawClient(tb, base)
			for i := range next {
				_, b := c.do(tb, "POST", "delphix/toolkit/requestUploadToken", "application/json", nil)
				var tok struct{ Result struct{ Token string } }
				json.Unmarshal(b, &tok)
				doc := enginetest.Bytes(enginetest.Options{ID: fmt.Sprintf("0f9e3c4a-7b21-4d2e-9a55-%012d", i), Name: fmt.Sprintf("bench plugin %d", i)})
				var body bytes.Buffer
				body.WriteString("------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + tok.Result.Token + "\r\n")
				body.WriteString("------------boundary------\r\nContent-Disposition:form-data; name=\"file\"; filename=\"artifact.json\"\r\nContent-Type: application/octet-stream\r\n\r\n")
				body.Write(doc)
				body.WriteString("\r\n------------boundary--------\r\n")
				if resp, b := c.do(tb, "POST", "delphix/data/upload", "multipart/form-data; boundary=----------boundary------", body.Bytes()); resp.StatusCode != 200 {
					tb.Errorf("upload %d: %.300s", i, b)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// pluginsEngine starts an engine process with n installed plugins. The
// data directory is made once per test binary (under TestMain's
// scratchDir, removed at its end) and kept: the benchmark
// function runs more than once (b.N = 1 first), and installing 1,000
// plugins takes seconds.
func pluginsEngine(b *testing.B, n int) *engineProc {
	dir := filepath.Join(scratchDir, fmt.Sprintf("bench-%d-plugins", n))
	done := filepath.Join(scratchDir, fmt.Sprintf("bench-%d-plugins.done", n))
	e := startEngineB(b, dir)
	if _, err := os.Stat(done); err != nil {
		start := time.Now()
		installPlugins(b, e.url, n)
		b.Logf("installed %d plugins in %s", n, time.Since(start).Round(time.Millisecond))
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func medianOf(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkToolkitLists measures GET delphix/toolkit on an engine process
// with 1,000 installed plugins against the same engine code with 10, in
// the same run (one client, requests one after the other, alternated):
//
//   - a page (pageSize=25) from 1,000 plugins vs the same page from 10:
//     paging keeps a page's cost flat in the data size (limit: 2x);
//   - the whole unpaged list of 1,000 plugins (what Delphix's Python dvp
//     asks for) vs a bare net/http server answering the same bytes: the
//     cost of the engine's work over sending ~2.5 MB.
//
// Each iteration sends 20 page requests to each engine and 4 whole lists
// to the engine and to the bare server; the medians are reported.
//
//	go test -tags e2e -run '^$' -bench ToolkitLists -benchtime 10x ./internal/engine/e2e/
func BenchmarkToolkitLists(b *testing.B) {
	small, big := pluginsEngine(b, 10), pluginsEngine(b, 1000)
	defer small.kill()
	defer big.kill()
	cs, cb := newRawClient(b, small.url), newRawClient(b, big.url)
	page := "delphix/toolkit?pageSize=25&pageOffset=0"
	if n := cb.get(b, page); n == 0 {
		b.Fatal("empty page")
	}
	_, whole := cb.do(b, "GET", "delphix/toolkit", "application/json", nil)
	var list struct {
		Total  int
		Result []json.RawMessage
	}
	if err := json.Unmarshal(whole, &list); err != nil || list.Total != 1000 || len(list.Result) != 1000 {
		b.Fatalf("the big engine lists %d plugins (total %d): %v", len(list.Result), list.Total, err)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(whole)
	}))
	defer bare.Close()
	cbare := &rawClient{base: bare.URL, hc: &http.Client{}}
	timeIt := func(c *rawClient, path string, n int, into *[]time.Duration) {
		for i := 0; i < n; i++ {
			t0 := time.Now()
			c.get(b, path)
			*into = append(*into, time.Since(t0))
		}
	}
	var pageSmall, pageBig, wholeBig, wholeBare []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			timeIt(cs, page, 20, &pageSmall)
			timeIt(cb, page, 20, &pageBig)
			timeIt(cb, "delphix/toolkit", 4, &wholeBig)
			timeIt(cbare, "delphix/toolkit", 4, &wholeBare)
		} else {
			timeIt(cbare, "delphix/toolkit", 4, &wholeBare)
			timeIt(cb, "delphix/toolkit", 4, &wholeBig)
			timeIt(cb, page, 20, &pageBig)
			timeIt(cs, page, 20, &pageSmall)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	ps, pb, wb, wr := medianOf(pageSmall), medianOf(pageBig), medianOf(wholeBig), medianOf(wholeBare)
	b.ReportMetric(ms(ps), "page-of-10-ms")
	b.ReportMetric(ms(pb), "page-of-1000-ms")
	b.ReportMetric(ms(pb)/ms(ps), "page-1000/10")
	b.ReportMetric(ms(wb), "list-1000-ms")
	b.ReportMetric(ms(wr), "bare-1000-ms")
	b.ReportMetric(ms(wb)/ms(wr), "list/bare")
	b.ReportMetric(float64(len(whole))/(1<<20), "list-1000-MiB")
	b.Logf("pageSize=25: %s from 1,000 plugins, %s from 10 (%.2fx); whole list of 1,000 (%.1f MiB): engine %s, bare net/http %s (%.2fx)",
		pb, ps, ms(pb)/ms(ps), float64(len(whole))/(1<<20), wb, wr, ms(wb)/ms(wr))
}

// BenchmarkLongJobPoll measures GET delphix/job/{ref} of a finished job
// with 10,000 events (written into the data directory's database before
// the engine process starts): the whole job, which a client's first poll
// reads, against a job with 10 events, in the same run. A poll after the
// first one asks only for the events it has not seen (the eventsSince
// cursor) where the engine has it; the row says which it measured.
//
//	go test -tags e2e -run '^$' -bench LongJobPoll -benchtime 10x ./internal/engine/e2e/
func BenchmarkLongJobPoll(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "data")
	st, err := store.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	// A job of 10,000 events, as engines before one job's events were
	// bounded could leave (today's keep 1,000: docs/engine.md, "Jobs").
	st.KeepJobEvents(10000, 10000)
	ctx := b.Context()
	now := store.FormatTime(time.Now())
	addJob := func(events int) string {
		act := &store.Action{ActionType: "DB_SYNC", Title: "Sync", Details: "Sync.", State: "RUNNING", UserRef: "USER-1", StartTime: now}
		job := &store.Job{ActionType: "DB_SYNC", Title: "Sync", State: "RUNNING", UserRef: "USER-1", StartTime: now, UpdateTime: now}
		if err := st.InsertActionWithJob(ctx, act, job); err != nil {
			b.Fatal(err)
		}
		evs := make([]store.JobEvent, events)
		for i := range evs {
			evs[i] = store.JobEvent{Timestamp: now, MessageCode: "event.plugin.output", Details: fmt.Sprintf("line %d of the operation's output, as a plugin prints it", i), EventType: "INFO", Percent: float64(i * 100 / events)}
		}
		evs[events-1].State = store.Text("COMPLETED")
		if err := st.FinishJob(ctx, store.Finish{JobID: job.ID, ActionID: act.ID, State: "COMPLETED", Events: evs, End: now}); err != nil {
			b.Fatal(err)
		}
		return job.Ref()
	}
	long, short := addJob(10000), addJob(10)
	st.Close()
	e := startEngineB(b, dir)
	defer e.kill()
	c := newRawClient(b, e.url)
	size := c.get(b, "delphix/job/"+long)
	cursor := cursorPath(b, c, long)
	var tLong, tShort, tCursor []time.Duration
	timeIt := func(path string, into *[]time.Duration) {
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			c.get(b, path)
			*into = append(*into, time.Since(t0))
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timeIt("delphix/job/"+long, &tLong)
		timeIt("delphix/job/"+short, &tShort)
		if cursor != "" {
			timeIt(cursor, &tCursor)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	l, s := medianOf(tLong), medianOf(tShort)
	b.ReportMetric(ms(l), "job-10000-ms")
	b.ReportMetric(ms(s), "job-10-ms")
	b.ReportMetric(float64(size)/(1<<20), "job-10000-MiB")
	if cursor != "" {
		cur := medianOf(tCursor)
		b.ReportMetric(ms(cur), "poll-after-first-ms")
		b.ReportMetric(ms(cur)/ms(s), "poll/job-10")
		b.Logf("job of 10,000 events: whole %s (%.1f MiB), a poll after the first (%s) %s, a job of 10 events %s", l, float64(size)/(1<<20), cursor, cur, s)
	} else {
		b.Logf("job of 10,000 events: whole %s (%.1f MiB), a job of 10 events %s; this engine has no events cursor", l, float64(size)/(1<<20), s)
	}
}

// cursorPath is the poll of job ref after one that read all its events,
// when the engine answers the eventsSince cursor ("" when it does not: an
// unknown query parameter is ignored, so the answer still has every event).
func cursorPath(b *testing.B, c *rawClient, ref string) string {
	path := "delphix/job/" + ref + "?eventsSince=10000"
	_, body := c.do(b, "GET", path, "application/json", nil)
	var env struct {
		Result struct{ Events []json.RawMessage }
	}
	if json.Unmarshal(body, &env) != nil || len(env.Result.Events) != 0 {
		return ""
	}
	return path
}
