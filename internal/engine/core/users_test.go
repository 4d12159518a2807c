package core

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// A login with an unknown user name compares against a hash of the same
// bcrypt cost as real passwords, so it takes as long as a wrong password
// (a cheaper dummy would tell an attacker which names exist).
func TestDummyHashHasTheEngineCost(t *testing.T) {
	for _, tc := range []struct{ cfg, want int }{{bcrypt.MinCost, bcrypt.MinCost}, {6, 6}, {0, bcrypt.DefaultCost}} {
		h := dummyHash(tc.cfg)
		got, err := bcrypt.Cost([]byte(strings.TrimPrefix(h, hashPrefix)))
		if err != nil || got != tc.want {
			t.Errorf("dummyHash(%d) has cost %d (%v), want %d", tc.cfg, got, err, tc.want)
		}
		if checkPassword(h, "not a password") || checkPassword(h, "") {
			t.Errorf("dummyHash(%d) matches a guessable password", tc.cfg)
		}
		if dummyHash(tc.cfg) != h {
			t.Errorf("dummyHash(%d) is not made once", tc.cfg)
		}
	}
}
