package engineclient

import (
	"fmt"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// Bounds of the events FollowJob keeps of one job: the first ones and the
// last ones, each part at most this many or this large. A job's events
// come from the engine, which may send new ones at every poll for as long
// as the job runs.
const (
	MaxKeptEvents     = 5000
	MaxKeptEventBytes = 32 << 20
)

// DroppedEventsCode is the messageCode of the event FollowJob puts where
// it left events out.
const DroppedEventsCode = "dvp.events.dropped"

// eventLog keeps the first and the last events of a job within the
// bounds above, counting those it leaves out between.
type eventLog struct {
	seen      int // events received
	head      []engineapi.JobEvent
	headBytes int
	tail      []engineapi.JobEvent // after head, oldest first
	tailBytes int
	dropped   int
}

func eventSize(ev *engineapi.JobEvent) int {
	n := 256 + len(ev.Timestamp) + len(ev.MessageCode) + len(ev.MessageDetails) + len(ev.EventType) + len(ev.Type)
	for _, p := range []*string{ev.State, ev.MessageAction, ev.MessageCommandOutput} {
		if p != nil {
			n += len(*p)
		}
	}
	for _, d := range ev.Diagnoses {
		n += len(d) + 16
	}
	return n
}

func (l *eventLog) add(ev engineapi.JobEvent) {
	l.seen++
	n := eventSize(&ev)
	if len(l.tail) == 0 && len(l.head) < MaxKeptEvents && l.headBytes+n <= MaxKeptEventBytes {
		l.head = append(l.head, ev)
		l.headBytes += n
		return
	}
	l.tail = append(l.tail, ev)
	l.tailBytes += n
	for len(l.tail) > MaxKeptEvents || l.tailBytes > MaxKeptEventBytes {
		l.tailBytes -= eventSize(&l.tail[0])
		l.tail[0] = engineapi.JobEvent{} // let its strings go
		l.tail = l.tail[1:]
		l.dropped++
	}
}

// events are the events kept, with one that says how many were left out
// where they were.
func (l *eventLog) events() []engineapi.JobEvent {
	out := make([]engineapi.JobEvent, 0, len(l.head)+len(l.tail)+1)
	out = append(out, l.head...)
	if l.dropped > 0 {
		out = append(out, engineapi.JobEvent{Type: "JobEvent", MessageCode: DroppedEventsCode, EventType: "INFO",
			MessageDetails: fmt.Sprintf("dvp kept the first %d and the last %d of the job's %d events: the %d events in between are left out (dvp keeps at most %d or %d MiB of each).",
				len(l.head), len(l.tail), l.seen, l.dropped, MaxKeptEvents, MaxKeptEventBytes>>20)})
	}
	return append(out, l.tail...)
}
