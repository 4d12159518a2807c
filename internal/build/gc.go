package build

import (
	"os"
	"runtime/debug"
	"sync"
)

// A build's live heap is small (the binary and the artifact are streamed,
// not held), but it allocates a few MiB on the way: at Go's default GOGC of
// 100 the collector ran two or three times in an edit-loop build, about
// 7 ms of CPU that go build, running at the same time, could have used.
// While builds run, the collector waits until the heap is 5 times the live
// heap (buildGCPercent), and from buildMemoryLimit on the soft memory limit
// collects as usual, so that a project with large sources does not grow to
// 5 times their size either. A GOGC or GOMEMLIMIT set by the user is left
// as it is.
const (
	buildGCPercent   = 400
	buildMemoryLimit = 512 << 20
)

var gcTuning struct {
	sync.Mutex
	builds            int // builds running
	percent, memLimit int64
}

// relaxGC applies the builds' collector settings until the returned
// function is called (by each build; the last one restores the settings).
func relaxGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	g := &gcTuning
	g.Lock()
	defer g.Unlock()
	if g.builds == 0 {
		g.memLimit = debug.SetMemoryLimit(buildMemoryLimit)
		g.percent = int64(debug.SetGCPercent(buildGCPercent))
	}
	g.builds++
	return func() {
		g.Lock()
		defer g.Unlock()
		g.builds--
		if g.builds == 0 {
			debug.SetGCPercent(int(g.percent))
			debug.SetMemoryLimit(g.memLimit)
		}
	}
}
