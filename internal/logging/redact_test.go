package logging

import (
	"fmt"
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

// TestManySecrets: the engine registers every secret it sees, some from
// plugins, which can return tens of thousands. Registering and redacting
// must not compare each secret in turn (20,000 secrets took 25 s to
// register and 0.4 s per redacted line): 100,000 here, then every
// message of the engine is redacted as before.
func TestManySecrets(t *testing.T) {
	r := &Redactor{} // the zero value works too
	for i := range 100_000 {
		r.Add(fmt.Sprintf("plugin-secret-%06d", i))
		r.Add(fmt.Sprintf("s%d", i%10_000)) // short: whole words only
	}
	r.Add("plugin-secret-000001-longer") // contains another: masked whole
	for i := range 1000 {
		in := fmt.Sprintf("job %d: plugin-secret-%06d and plugin-secret-000001-longer, s%d s%d, not xs%d nor s%d0000; unknown-secret-1", i, i*97, i, i+1, i, i)
		want := fmt.Sprintf("job %d: ****** and ******, ****** ******, not xs%d nor s%d0000; unknown-secret-1", i, i, i)
		if got := r.Redact(in); got != want {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	}
	if got := r.Redact("s1 s1 (s1)"); got != "****** ****** (******)" {
		t.Errorf("adjacent short secrets: %q", got)
	}
}

// A short secret is masked where it is a token of its own, never inside a
// hyphenated option name or an identifier: the engine's refusal of the
// admin password "weak" names --allow-weak-password whole, and still
// never shows the password itself.
func TestShortSecretsMaskedAsTokens(t *testing.T) {
	r := NewRedactor()
	r.Add("weak")
	r.Add("short")
	for in, want := range map[string]string{
		"start it with --allow-short-password":           "start it with --allow-short-password",
		"the password weak is shorter than 8 characters": "the password ****** is shorter than 8 characters",
		"weak_passwords, weak-ish, weakly, unweak":       "weak_passwords, weak-ish, weakly, unweak",
		`pw=weak; "weak" (weak) weak. user:weak@host`:    `pw=******; "******" (******) ******. user:******@host`,
		"short": "******",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q)\n got  %q\n want %q", in, got, want)
		}
	}
}
