package engineapi

// Policy is a dSource's sync policy or a VDB's refresh policy with its
// snapshot retention, as GET delphix/database shows it in a container's
// "policy" (docs/engine.md, "Policies and retention").
type Policy struct {
	Operation     string `json:"operation"`          // sync (dSources) | refresh (VDBs)
	Every         string `json:"every,omitempty"`    // an interval, a Go duration such as 1h30m0s
	Schedule      string `json:"schedule,omitempty"` // a cron expression: minute hour day-of-month month day-of-week
	KeepSnapshots int    `json:"keepSnapshots"`      // snapshots kept after a sync or snapshot; 0: all
	NextRun       string `json:"nextRun,omitempty"`  // when the policy runs next
	LastRun       string `json:"lastRun,omitempty"`  // when it last fell due
	LastJob       string `json:"lastJob,omitempty"`  // the job it started then
	LastSkipped   string `json:"lastSkipped,omitempty"`
}

// PolicyParameters set a policy, at link, provision or update time: a nil
// field leaves that setting as it is, "" (or 0) clears it. Every and
// Schedule are alternatives: setting one clears the other.
type PolicyParameters struct {
	Every         *string `json:"every,omitempty"`
	Schedule      *string `json:"schedule,omitempty"`
	KeepSnapshots *int    `json:"keepSnapshots,omitempty"`
}

// IsZero reports whether p changes nothing.
func (p *PolicyParameters) IsZero() bool {
	return p == nil || (p.Every == nil && p.Schedule == nil && p.KeepSnapshots == nil)
}
