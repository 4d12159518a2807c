package jobs

import (
	"fmt"
	"sync"
)

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

// Ticket is a place among the jobs Options.MaxJobs bounds, taken before a
// request makes the objects its job works on (Reserve): a refusal then
// leaves nothing behind. Start uses it (Spec.Ticket).
type Ticket struct {
	mu   sync.Mutex
	done func() // gives the place back; nil once a job took it or it was given back
}

// Reserve takes a place for a job of owner, or refuses it (*LimitError).
func (m *Manager) Reserve(owner string) (*Ticket, error) {
	done, err := m.admit(owner)
	if err != nil {
		return nil, err
	}
	return &Ticket{done: done}, nil
}

// Release gives the place back unless a job took it; a nil Ticket is a
// no-op.
func (t *Ticket) Release() {
	if d := t.take(); d != nil {
		d()
	}
}

// take hands the place over: the returned function gives it back (nil
// when it was taken or given back already).
func (t *Ticket) take() func() {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.done
	t.done = nil
	return d
}
