//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// TestTokenFloodIsBounded: a logged-in client asks for upload tokens and
// for log bundles in a loop and spends none. Each upload token was memory
// held until it expired, and each bundle a file in the data directory
// until its download token expired: a session now holds at most 32 upload
// tokens and 4 bundles, the refusal says why, and other sessions and a
// spent token's slot are not affected.
func TestTokenFloodIsBounded(t *testing.T) {
	data := t.TempDir()
	e := startEngine(t, data)
	if r := upload(t, e, writeArtifact(t, enginetest.Options{Name: "flooded"})); r.code != 0 {
		t.Fatalf("upload: %+v", r)
	}
	a := e.api(t)
	var first string
	for i := range 32 {
		tok := a.token()
		if i == 0 {
			first = tok
		}
	}
	for range 100 {
		code, b := a.post("delphix/toolkit/requestUploadToken", "")
		if code != 429 || !strings.Contains(string(b), "already holds 32 upload tokens") || !strings.Contains(string(b), "exception.webservices.upload.tokens.exhausted") {
			t.Fatalf("upload token 33 of one session: HTTP %d %s", code, b)
		}
	}
	// Another session is not refused; spending a token frees its slot.
	e.api(t).token()
	doc, _ := os.ReadFile(writeArtifact(t, enginetest.Options{Name: "flooded"}))
	if code, b := a.uploadWith(first, doc); code != 200 {
		t.Fatalf("upload with the first token: %d %s", code, b)
	}
	a.token()

	tks := a.toolkits()
	if len(tks) != 1 {
		t.Fatalf("toolkits: %+v", tks)
	}
	bundle := `{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "` + tks[0].Reference + `"}`
	var tokens []string
	for range 4 {
		code, b := a.post("delphix/service/support/bundle/generate", bundle)
		var env struct{ Result string }
		if code != 200 || json.Unmarshal(b, &env) != nil || env.Result == "" {
			t.Fatalf("bundle: %d %s", code, b)
		}
		tokens = append(tokens, env.Result)
	}
	for range 50 {
		code, b := a.post("delphix/service/support/bundle/generate", bundle)
		if code != 429 || !strings.Contains(string(b), "already holds 4 download tokens") {
			t.Fatalf("bundle 5 of one session: HTTP %d %s", code, b)
		}
	}
	spooled, _ := filepath.Glob(filepath.Join(data, "tmp", "bundle-*"))
	if len(spooled) != 4 {
		t.Errorf("%d bundles wait in the data directory, want 4: %v", len(spooled), spooled)
	}
	// A download spends a token, removes its bundle and frees its slot.
	if code, b := a.do("GET", "delphix/data/downloadOutputStream?token="+tokens[0], "", nil); code != 200 || len(b) == 0 {
		t.Fatalf("download: %d", code)
	}
	if code, b := a.post("delphix/service/support/bundle/generate", bundle); code != 200 {
		t.Errorf("a bundle after a download: %d %s", code, b)
	}
}
