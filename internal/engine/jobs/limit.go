package jobs

import "fmt"

// DefaultMaxJobs is how many jobs that clients started may be unfinished
// (running, or queued behind another job on the same object) at once.
const DefaultMaxJobs = 64

// LimitError refuses a job a client asked for: the engine, or the
// client's session, already holds as many unfinished jobs as it may.
type LimitError struct {
	// Session is true when the session's share was the bound, false when
	// the engine's.
	Session   bool
	Held, Max int
}

func (e *LimitError) Error() string {
	if e.Session {
		return fmt.Sprintf("this session already has %d jobs that have not ended, its share of --max-jobs (%d)", e.Held, e.Max)
	}
	return fmt.Sprintf("the engine already has %d jobs that clients started and that have not ended (--max-jobs %d)", e.Held, e.Max)
}

// sessionShare is what one session may hold of max: half, so that one
// client starting jobs in a loop leaves room for the others.
func sessionShare(max int) int { return max - max/2 }

// admit counts a job of owner ("" the engine's own: policies, workers,
// which each run at most one per object, are not counted) or refuses it.
// The caller calls the returned function when the job has ended.
func (m *Manager) admit(owner string) (done func(), err error) {
	if owner == "" || m.maxJobs <= 0 {
		return func() {}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.clientJobs >= m.maxJobs {
		return nil, &LimitError{Held: m.clientJobs, Max: m.maxJobs}
	}
	if share := sessionShare(m.maxJobs); m.ownerJobs[owner] >= share {
		return nil, &LimitError{Session: true, Held: m.ownerJobs[owner], Max: m.maxJobs}
	}
	m.clientJobs++
	m.ownerJobs[owner]++
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.clientJobs--
		if m.ownerJobs[owner]--; m.ownerJobs[owner] <= 0 {
			delete(m.ownerJobs, owner)
		}
	}, nil
}
