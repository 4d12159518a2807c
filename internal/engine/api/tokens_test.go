package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTokensBounded: a logged-in client that asks for tokens in a loop and
// never spends them holds at most perSession of them; the engine holds at
// most maxHeld, forgetting spent and expired ones first; each refusal says
// why and what to do.
func TestTokensBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	ts := newTokens("upload", time.Minute, func() time.Time { return now }, 3, 8)
	var held []string
	for range 3 {
		id, err := ts.issue("s1", "")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, id)
	}
	_, err := ts.issue("s1", "")
	if err == nil || err.Status != http.StatusTooManyRequests || !strings.Contains(err.Details, "already holds 3 upload tokens") ||
		!strings.Contains(err.Action, "wait until they expire (1m0s)") {
		t.Fatalf("a fourth unspent token of one session: %+v", err)
	}
	// Spending one makes room; expiry makes room.
	if _, err := ts.consume(held[0], "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.issue("s1", ""); err != nil {
		t.Errorf("after a token was spent: %v", err)
	}
	now = now.Add(2 * time.Minute)
	for range 3 {
		if _, err := ts.issue("s1", ""); err != nil {
			t.Fatalf("after the tokens expired: %v", err)
		}
	}
	// The engine-wide bound: 8 remembered; the expired and spent ones are
	// forgotten for room, the live ones are not.
	for _, s := range []string{"s2", "s3"} {
		for range 3 {
			if _, err := ts.issue(s, ""); err != nil && s == "s2" {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	if len(ts.byID) > 8 {
		t.Errorf("%d tokens remembered, bound 8", len(ts.byID))
	}
	live := 0
	for _, tk := range ts.byID {
		if ts.live(tk, now) {
			live++
		}
	}
	_, err = ts.issue("s4", "")
	if live == 8 && (err == nil || err.Status != http.StatusServiceUnavailable || !strings.Contains(err.Details, "holds 8 upload tokens")) {
		t.Errorf("a token past the engine's bound: %+v", err)
	}
	// A download token's file is never forgotten before sweep returns it.
	dl := newTokens("download", time.Minute, func() time.Time { return now }, 1, 1)
	if _, err := dl.issue("s1", "/bundle-1"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := dl.check("s2"); err == nil {
		t.Error("an expired download token's bundle was forgotten to make room (its file would stay on disk)")
	}
	if got := dl.sweep(); len(got) != 1 || got[0] != "/bundle-1" {
		t.Errorf("sweep returned %v", got)
	}
	now = now.Add(2 * time.Hour)
	dl.sweep()
	if err := dl.check("s2"); err != nil {
		t.Errorf("after the sweep: %v", err)
	}
	if len(ts.bySession) > 4 {
		t.Errorf("%d sessions' lists kept", len(ts.bySession))
	}
}
