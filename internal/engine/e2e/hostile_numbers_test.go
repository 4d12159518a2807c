//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// TestHostileArtifactNumbersRefused: a JSON number in a plugin's schema is
// whatever the artifact says. 1e999999 (9 bytes) is beyond a double: the
// engine accepted such an artifact and stored it as Python's json writes
// it, "Infinity", which is not JSON, so every later read of the installed
// plugins failed (GET delphix/toolkit, dvp toolkit list, environment add,
// every upload: HTTP 500 "the stored artifact ... is unreadable") until
// the plugin was deleted by its reference. And the validator computes
// with such numbers exactly: 1e-999999 is a million-digit fraction, ~0.14
// s of CPU each time it is read, 30 of them in 3 KB of schema kept the
// engine busy for seconds at the upload and at each validation. Numbers of
// a schema must fit a double, with an exponent of at most 1000 and at
// most 100 characters; others are refused with the upload, naming them
// (internal/schema/numbers_test.go: the same bounds for the values
// validated).
func TestHostileArtifactNumbersRefused(t *testing.T) {
	e := startEngine(t, t.TempDir())
	a := e.api(t)
	for _, c := range []struct{ name, number, want string }{
		{"beyond a double", "1e400", `/snapshotSchema: the schema does not compile: the number 1e400 is beyond the range of a double`},
		{"a huge exponent beyond a double", "1e999999", `/snapshotSchema: the schema does not compile: the number 1e999999 has an exponent beyond 1000 (at /properties/n/minimum)`},
		{"a huge exponent", "1e-999999", `/snapshotSchema: the schema does not compile: the number 1e-999999 has an exponent beyond 1000`},
		{"a long literal", "1." + strings.Repeat("0", 200) + "1", `/snapshotSchema: the schema does not compile: the number 1.0000000000000000000000... has 203 characters, more than the 100 accepted (at /properties/n/minimum)`},
	} {
		// artifact.Marshal writes numbers as Python's json does (1e999999
		// as Infinity): the number goes in after.
		doc, err := artifact.Marshal(enginetest.Artifact(enginetest.Options{Binary: pluginBin, Mutate: func(x *artifact.Artifact) {
			x.SnapshotSchema = json.RawMessage(`{"type": "object", "properties": {"n": {"minimum": 12345}}}`)
		}}, nil))
		if err != nil {
			t.Fatal(err)
		}
		doc = bytes.Replace(doc, []byte("12345"), []byte(c.number), 1)
		code, b := a.uploadWith(a.token(), doc)
		if code != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: HTTP %d %.600s", c.name, code, b)
		}
		// The engine still reads its plugins.
		if tks := a.toolkits(); len(tks) != 0 {
			t.Errorf("%s: a refused artifact was installed: %+v", c.name, tks)
		}
	}
}

// TestHostileArtifactTextBounded: an artifact's name, build number,
// entry point and other text fields could each be up to the 64 MiB of a
// top-level field: a plugin named with a megabyte was installed, and every
// list of the plugins, every job of the plugin (its title) and every event
// of its discoveries (Plugin "...") quoted the megabyte again. They hold
// at most 256 bytes now; beyond, the upload is refused naming the field.
func TestHostileArtifactTextBounded(t *testing.T) {
	e := startEngine(t, t.TempDir())
	a := e.api(t)
	long := strings.Repeat("n", 1<<20)
	doc, err := artifact.Marshal(enginetest.Artifact(enginetest.Options{Binary: pluginBin, Mutate: func(x *artifact.Artifact) {
		x.Name, x.ExternalVersion = long, long
	}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	code, b := a.uploadWith(a.token(), doc)
	for _, want := range []string{"/name: has 1048576 bytes, more than the 256 accepted", "/externalVersion: has 1048576 bytes, more than the 256 accepted"} {
		if code != 400 || !strings.Contains(string(b), want) {
			t.Errorf("HTTP %d %.600s, want %q", code, b, want)
		}
	}
	if len(b) > 64<<10 {
		t.Errorf("the refusal has %d bytes", len(b))
	}
	if tks := a.toolkits(); len(tks) != 0 {
		t.Errorf("an artifact with a megabyte name was installed")
	}
}
