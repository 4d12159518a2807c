package engineclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTricklingAnswerEnds: an engine that sends its answer a byte at a
// time, each before the read timeout, kept dvp waiting as long as it
// pleased (16 MiB at a byte per 50 ms is ten days): the progress watchdog
// was content. A JSON answer must now arrive whole within the read
// timeout, and such an answer is not asked for again.
func TestTricklingAnswerEnds(t *testing.T) {
	var requests atomic.Int32
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type": "ListResult", "status": "OK", "result": [`))
		for {
			w.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.ReadTimeout = 300 * time.Millisecond })
	done := make(chan error, 1)
	go func() {
		_, err := c.get(context.Background(), "delphix/environment", "application/json")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not arrive whole within 300ms (--read-timeout): dvp stopped reading it") {
			t.Errorf("a trickling answer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dvp still reads a trickling answer after 30 s (read timeout 300ms)")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the trickling answer was asked for %d times", n)
	}
}
