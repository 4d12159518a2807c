//go:build dvppprof

package engine

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
)

// With the dvppprof build tag (go build -tags dvppprof ./cmd/dvp; make
// load's profiling run builds it so, docs/performance.md), an engine whose
// environment has DVP_ENGINE_PPROF=FILE serves Go's profiles
// (net/http/pprof: CPU, goroutines, and the block and mutex profiles,
// which this turns on) on a port of 127.0.0.1 of its own, and writes that
// URL to FILE; /debug/dvp/store serves the store's write counters
// (store.WriteStats) as JSON. The endpoint has no authentication: it is for a developer
// profiling an engine on their machine, never in a released binary.
func init() {
	startProfiling = func(e *Engine) {
		log := e.cfg.Log
		file := os.Getenv("DVP_ENGINE_PPROF")
		if file == "" {
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Error("profiling endpoint", "error", err)
			return
		}
		runtime.SetBlockProfileRate(10_000) // every wait of 10 µs or more, a share of the shorter ones
		runtime.SetMutexProfileFraction(10)
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/dvp/store", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(e.store.WriteStats())
		})
		url := "http://" + ln.Addr().String() + "/debug/pprof/"
		if err := os.WriteFile(file, []byte(url+"\n"), 0o600); err != nil {
			log.Error("profiling endpoint", "error", err)
			ln.Close()
			return
		}
		log.Warn("profiling endpoint without authentication (a dvppprof build)", "url", url)
		go http.Serve(ln, mux)
	}
}
