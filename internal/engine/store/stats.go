package store

import (
	"sync/atomic"
	"time"
)

// WriteStats are the store's counters of its write path since it was
// opened: what a write waits for. Commits and Fsyncs are those of the
// methods of the same names; the times are sums, in nanoseconds.
// docs/performance.md reads them per upload under make load (the
// dvppprof build serves them).
type WriteStats struct {
	Commits int64 // transactions committed (each an fsync of the write-ahead log)
	Fsyncs  int64 // Fsyncs(): the commits and the syncs of files and directories
	Batches int64 // transactions written (committed or not)
	Writes  int64 // callers' writes in them
	// WaitNs is the time callers waited in write, from asking to write to
	// their write committed: the writer's lock, the batches before theirs
	// and their own.
	WaitNs int64
	// LockNs is the time the batches held the writer's lock (their SQL,
	// the commit, the afters); CommitNs the part of it in COMMIT.
	LockNs   int64
	CommitNs int64
	// SyncNs is the time in the fsyncs of spool files and blob
	// directories (outside the writer's lock).
	SyncNs int64
}

// writeStats are the counters behind WriteStats.
type writeStats struct {
	batches, writes, waitNs, lockNs, commitNs, syncNs atomic.Int64
}

// WriteStats returns the write path's counters.
func (s *Store) WriteStats() WriteStats {
	st := &s.wstats
	return WriteStats{Commits: s.Commits(), Fsyncs: s.Fsyncs(), Batches: st.batches.Load(), Writes: st.writes.Load(),
		WaitNs: st.waitNs.Load(), LockNs: st.lockNs.Load(), CommitNs: st.commitNs.Load(), SyncNs: st.syncNs.Load()}
}

// since adds the time since t to c.
func since(c *atomic.Int64, t time.Time) { c.Add(int64(time.Since(t))) }
