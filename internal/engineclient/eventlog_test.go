package engineclient

import (
	"strconv"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestEventLogBounded: FollowJob keeps the first and the last events of a
// job, 5,000 or 32 MiB of each, and one event where it left the others
// out, saying how many (through the real binary and a hostile engine:
// internal/engine/e2e hostile_lists_test.go).
func TestEventLogBounded(t *testing.T) {
	var l eventLog
	for i := range 12000 {
		l.add(engineapi.JobEvent{MessageDetails: strconv.Itoa(i)})
	}
	evs := l.events()
	if len(evs) != 2*MaxKeptEvents+1 || evs[0].MessageDetails != "0" || evs[MaxKeptEvents-1].MessageDetails != "4999" ||
		evs[MaxKeptEvents+1].MessageDetails != "7000" || evs[len(evs)-1].MessageDetails != "11999" {
		t.Fatalf("%d events kept: first %q, last %q", len(evs), evs[0].MessageDetails, evs[len(evs)-1].MessageDetails)
	}
	if m := evs[MaxKeptEvents]; m.MessageCode != DroppedEventsCode || !strings.Contains(m.MessageDetails, "the job's 12000 events: the 2000 events in between are left out") {
		t.Errorf("the mark of the events left out: %+v", m)
	}
	// By size: 1 MiB events, 32 of each part.
	l = eventLog{}
	big := strings.Repeat("x", 1<<20)
	for range 100 {
		l.add(engineapi.JobEvent{MessageDetails: big})
	}
	if len(l.head) > 32 || len(l.tail) > 32 || l.dropped < 36 || l.seen != 100 {
		t.Errorf("1 MiB events: kept %d + %d, dropped %d of %d", len(l.head), len(l.tail), l.dropped, l.seen)
	}
	// Few events: all of them, nothing added.
	l = eventLog{}
	l.add(engineapi.JobEvent{MessageDetails: "a"})
	l.add(engineapi.JobEvent{MessageDetails: "b"})
	if evs := l.events(); len(evs) != 2 || evs[1].MessageDetails != "b" {
		t.Errorf("two events: %+v", evs)
	}
}
