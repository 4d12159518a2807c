package engineapi

// Job states (a job's jobState, an action's state).
const (
	JobRunning   = "RUNNING"
	JobCompleted = "COMPLETED"
	JobFailed    = "FAILED"
	JobSuspended = "SUSPENDED"
	// JobCanceled is the state of a job cancelled by POST
	// delphix/job/{ref}/cancel (dvp job cancel), as a Delphix engine
	// spells it.
	JobCanceled = "CANCELED"
	// JobCancelled is the spelling Delphix's Python tool also checks for
	// (docs/upload.md); this engine never sets it.
	JobCancelled = "CANCELLED"
)

// JobFinished tells whether a job state is final.
func JobFinished(state string) bool { return state != JobRunning && state != "" }

// Query parameters of the job resources.
const (
	// QueryEventsSince on GET delphix/job/{ref} and GET
	// delphix/action/{ref}/getJob leaves out a job's first N events: a
	// client that follows a job asks for the events it has not seen yet
	// (events are only ever appended, so N is how many it has seen).
	QueryEventsSince = "eventsSince"
	// QueryJobState on GET delphix/job lists the jobs in that state only
	// (RUNNING: the running and the queued ones).
	QueryJobState = "jobState"
	// QueryJobTarget on GET delphix/job lists the jobs of one object (its
	// reference or name).
	QueryJobTarget = "target"
)

// Job is a job as GET delphix/job/{ref} and GET
// delphix/action/{ref}/getJob return it. The fields the engine does not
// use are always null or false; they are there because clients of the
// Delphix Engine expect them.
type Job struct {
	Type             string     `json:"type"` // Job
	Reference        string     `json:"reference"`
	Namespace        *string    `json:"namespace"`
	Name             *string    `json:"name"`
	ActionType       string     `json:"actionType"`
	Title            string     `json:"title"`
	Target           *string    `json:"target"`
	TargetObjectType string     `json:"targetObjectType"`
	TargetName       *string    `json:"targetName"`
	JobState         string     `json:"jobState"`
	StartTime        string     `json:"startTime"`
	UpdateTime       string     `json:"updateTime"`
	Suspendable      bool       `json:"suspendable"`
	Cancelable       bool       `json:"cancelable"`
	Queued           bool       `json:"queued"`
	User             string     `json:"user"`
	EmailAddresses   []string   `json:"emailAddresses"`
	CancelReason     *string    `json:"cancelReason"`
	PercentComplete  float64    `json:"percentComplete"`
	ParentAction     string     `json:"parentAction"`
	Events           []JobEvent `json:"events"`
	// NextEventsSince, when set, is the eventsSince that asks for the
	// events after these: the job dropped events in their range (one
	// event, event.job.events.dropped, stands for them), so the count of
	// events received no longer is their number. Unset (0, left out)
	// otherwise: that count is.
	NextEventsSince int `json:"nextEventsSince,omitempty"`
}

// EventsDroppedCode is the message code of the event that stands for the
// events a job dropped (docs/engine.md, "Jobs").
const EventsDroppedCode = "event.job.events.dropped"

// JobEvent is one event of a job. An event with a State is a change of the
// job's state; one without is a message of the work.
type JobEvent struct {
	Type                 string   `json:"type"` // JobEvent
	Timestamp            string   `json:"timestamp"`
	State                *string  `json:"state"`
	PercentComplete      float64  `json:"percentComplete"`
	MessageCode          string   `json:"messageCode"`
	MessageDetails       string   `json:"messageDetails"`
	MessageAction        *string  `json:"messageAction"`
	MessageCommandOutput *string  `json:"messageCommandOutput"`
	EventType            string   `json:"eventType"` // INFO | WARNING | ERROR
	Diagnoses            []string `json:"diagnoses"`
}

// Action is an action as GET delphix/action/{ref} returns it: the record
// of a request, with its failure when it failed.
type Action struct {
	Type               string  `json:"type"` // Action
	Reference          string  `json:"reference"`
	Namespace          *string `json:"namespace"`
	Title              string  `json:"title"`
	Details            string  `json:"details"`
	ActionType         string  `json:"actionType"`
	StartTime          string  `json:"startTime"`
	EndTime            *string `json:"endTime"`
	User               string  `json:"user"`
	UserAgent          *string `json:"userAgent"`
	ParentAction       *string `json:"parentAction"`
	State              string  `json:"state"`
	FailureDescription *string `json:"failureDescription"`
	FailureAction      *string `json:"failureAction"`
	FailureMessageCode *string `json:"failureMessageCode"`
	Report             *string `json:"report"`
}
