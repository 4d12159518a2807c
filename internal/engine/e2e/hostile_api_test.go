//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// These tests attack the real engine process over HTTP as a hostile
// client or a hostile plugin artifact would, and check that what it can
// make the engine hold or compute stays bounded.

// TestSessionFloodIsBounded: a session needs no password, so anyone who
// reaches the engine can start them in a loop. The engine keeps at most
// 4096 sessions that are not logged in (the oldest ends first); a client
// that logs in right after starting its session is not disturbed.
func TestSessionFloodIsBounded(t *testing.T) {
	e := startEngine(t, t.TempDir())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	start := func() string {
		t.Helper()
		resp, err := client.Post(e.url+"/resources/json/delphix/session", "application/json", strings.NewReader(pySession))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c := resp.Header.Get("Set-Cookie")
		if resp.StatusCode != 200 || c == "" {
			t.Fatalf("session: %d %q", resp.StatusCode, c)
		}
		return c
	}
	login := func(cookie string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", e.url+"/resources/json/delphix/login", bytes.NewReader([]byte(pyLogin(adminPassword))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	first := start()
	for range 4200 {
		start()
	}
	if code := login(first); code != 401 {
		t.Errorf("the first of 4201 sessions never logged in can still log in (HTTP %d): sessions are not bounded", code)
	}
	if code := login(start()); code != 200 {
		t.Errorf("a session started after the flood cannot log in: HTTP %d", code)
	}
}

// vmHWM is the peak resident set size of a process, in KiB.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestHostileArtifactSchemasBounded: an artifact's fields other than
// sourceCode are decoded and their schemas compiled, at a far higher cost
// than their text (a 65 MB artifact of "{}" drove the engine to 7 GB). A
// schema of a million values, one nested thousands deep, or one of more
// subschemas than a definition may have is refused with the field named,
// and the engine's memory stays small.
func TestHostileArtifactSchemasBounded(t *testing.T) {
	e := startEngine(t, t.TempDir())
	a := e.api(t)
	props := make([]string, 3000)
	for i := range props {
		props[i] = fmt.Sprintf(`"p%d": {"type": "string"}`, i)
	}
	for _, c := range []struct {
		name, schema, want string
	}{
		{"a million values", `{"allOf": [` + strings.Repeat(`{},`, 1_000_000) + `{}]}`, "/snapshotSchema: makes the top-level values other than sourceCode hold more than 100000 JSON values together"},
		{"nested 900 deep", strings.Repeat(`{"not": `, 900) + "{}" + strings.Repeat("}", 900), "/snapshotSchema: nests deeper than 100 levels"},
		{"3000 subschemas", `{"type": "object", "properties": {` + strings.Join(props, ",") + `}}`, "/snapshotSchema: the schema does not compile"},
	} {
		doc, err := artifact.Marshal(enginetest.Artifact(enginetest.Options{Binary: pluginBin, Mutate: func(x *artifact.Artifact) {
			x.SnapshotSchema = json.RawMessage(c.schema)
		}}, nil))
		if err != nil {
			t.Fatal(err)
		}
		code, b := a.uploadWith(a.token(), doc)
		if code != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: HTTP %d %.600s", c.name, code, b)
		}
	}
	if tks := a.toolkits(); len(tks) != 0 {
		t.Errorf("a refused artifact was installed: %+v", tks)
	}
	// Text of a few MB, decoded and compiled: tens of MB at most (it was
	// gigabytes).
	if kib := vmHWM(t, e.cmd.Process.Pid); kib > 200<<10 {
		t.Errorf("the engine's peak RSS reached %d MiB on refused artifacts", kib>>10)
	}
}
