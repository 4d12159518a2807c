package logging

import (
	"strings"
	"testing"
)

// The quick check that lets most lines skip the patterns never lets a
// secret-shaped field through: every pattern's match is still masked,
// whatever the case, and with runes that fold to ASCII letters.
func TestShapeRedactionSurvivesTheQuickCheck(t *testing.T) {
	r := NewRedactor()
	for _, in := range []string{
		`{"Password": "hunter2hunter2"}`,
		`{"PRIVATEKEY": "abc"}`,
		`{"private_key": "abc"}`,
		`{"credentials": "abc"}`,
		`{"token": "abc"}`,
		`{"ſecret": "abc"}`,
		`{"toKen": "abc"}`,
		`PASSWD=abc`,
		`Cookie: JSESSIONID=abc`,
		`authorization: Bearer abc`,
	} {
		if got := r.Redact(in); strings.Contains(got, "abc") || strings.Contains(got, "hunter2") {
			t.Errorf("Redact(%q) = %q: the secret is not masked", in, got)
		}
	}
	if got := r.Redact("nothing to hide here"); got != "nothing to hide here" {
		t.Errorf("Redact changed a line without secrets: %q", got)
	}
}
