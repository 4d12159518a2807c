package guard

import (
	"fmt"
	"strings"
	"testing"
)

// TestThrottleLongUserNamesBounded: a login's user name is whatever the
// client sends, up to the 1 MiB of a JSON body, and the throttle kept it
// whole as a key for 15 minutes: 300 failed logins with 1 MiB names, from
// as many loopback addresses (127.0.0.0/8 all reach a loopback engine),
// took the engine from 29 to 545 MB, 4096 of them over 4 GB. A long name
// is now remembered by a fixed-size digest; it is still throttled as
// itself, and a refusal quotes at most 64 bytes of it.
func TestThrottleLongUserNamesBounded(t *testing.T) {
	th := NewThrottle(ThrottleConfig{FreeFailures: 3})
	long := strings.Repeat("u", 1<<20)
	for i := range 100 {
		login(t, th, fmt.Sprintf("127.1.0.%d", i), long+fmt.Sprint(i), false)
	}
	size := 0
	for k := range th.users {
		size += len(k)
	}
	if size > 100*maxUserKey {
		t.Errorf("100 failed logins with 1 MiB user names: the throttle holds %d bytes of names", size)
	}
	// The same long name, from new addresses, is throttled after its
	// free failures: the digest stands for it.
	for i := range 3 {
		if f := login(t, th, fmt.Sprintf("127.2.0.%d", i), long, false); f != nil {
			t.Fatalf("free failure %d refused: %+v", i, f)
		}
	}
	f := login(t, th, "127.3.0.1", long, false)
	if f == nil || f.Status != 429 {
		t.Fatalf("the fourth failure in a row of one long name from a new address: %+v, want 429", f)
	}
	if len(f.Details) > 400 || !strings.Contains(f.Details, "uuuu") {
		t.Errorf("the refusal quotes %d bytes: %.200q", len(f.Details), f.Details)
	}
	// Another long name with the same first bytes is another user.
	if f := login(t, th, "127.3.0.2", long+"x", false); f != nil {
		t.Errorf("another long name sharing the first one's prefix is refused: %+v", f)
	}
}
