//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// BenchmarkEngineRPS measures the engine's throughput on its most frequent
// read, GET delphix/toolkit (one plugin installed, a logged-in session),
// with 16 concurrent keep-alive clients on loopback, against a baseline: a
// bare net/http server answering the same bytes, hit the same way in the
// same run. Each iteration sends 400 requests to each, alternately. It
// reports both rates and engine/baseline (the engine's share of the
// ceiling of Go's HTTP stack on this machine).
//
//	go test -run '^$' -bench EngineRPS -benchtime 20x ./internal/engine/e2e/
func BenchmarkEngineRPS(b *testing.B) {
	e := startEngineB(b, b.TempDir())
	defer e.kill()
	art := writeArtifact(b, enginetest.Options{})
	if r := dvpRSS(b, "upload", "-e", e.url, "-u", "admin", "-a", art); r.code != 0 {
		b.Fatalf("upload: %+v", r)
	}
	a := &api{base: e.url}
	_, cookie := a.loginAndToken(b)
	// The baseline answers what the engine answers.
	req, _ := http.NewRequest("GET", e.url+"/resources/json/delphix/toolkit", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("list: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer base.Close()

	const workers, perIter = 16, 400
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: 2 * workers}
	hc := &http.Client{Transport: tr}
	hammer := func(url string) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perIter/workers; i++ {
					req, _ := http.NewRequest("GET", url, nil)
					req.Header.Set("Cookie", "JSESSIONID="+cookieValue(cookie))
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	engineURL, baseURL := e.url+"/resources/json/delphix/toolkit", base.URL+"/resources/json/delphix/toolkit"
	hammer(engineURL) // warm up connections
	hammer(baseURL)
	var te, tb time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			te += hammer(engineURL)
			tb += hammer(baseURL)
		} else {
			tb += hammer(baseURL)
			te += hammer(engineURL)
		}
	}
	b.StopTimer()
	n := float64(b.N * perIter)
	er, br := n/te.Seconds(), n/tb.Seconds()
	b.ReportMetric(er, "engine-req/s")
	b.ReportMetric(br, "baseline-req/s")
	b.ReportMetric(er/br, "engine/baseline")
	b.Logf("%d GET delphix/toolkit by %d clients: engine %.0f req/s, bare net/http %.0f req/s, ratio %.2f", b.N*perIter, workers, er, br, er/br)
}

// cookieValue extracts the session id from "JSESSIONID=<id>" or a raw
// Set-Cookie value.
func cookieValue(c string) string {
	var v string
	fmt.Sscanf(c, "JSESSIONID=%s", &v)
	for i := 0; i < len(v); i++ {
		if v[i] == ';' {
			return v[:i]
		}
	}
	return v
}
