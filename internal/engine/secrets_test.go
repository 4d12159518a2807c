package engine

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/testio"
)

// secretArtifact is the staged test plugin whose dSource parameters hold a
// password and a credentials supplier.
func secretArtifact(t *testing.T) []byte {
	return stagedArtifactWith(t, func(a *artifact.Artifact) {
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "additionalProperties": false, "properties": {
		"mountLocation": {"type": "string", "format": "unixpath"},
		"dbPassword": {"type": "string", "format": "password"},
		"credentials": {"$ref": "https://delphix.com/platform/api#/definitions/credentialsSupplier"}}}`)
	})
}

// TestSecretsAreSealedMaskedAndRedacted: a dSource whose parameters hold a
// password and a credentials supplier. The plugin gets the real values
// (it resolves the credentials' user name); every answer shows the mask;
// the database files hold neither secret; a validation message does not
// quote one; after a restart the redactor knows them again; a replaced key
// is a clear error.
func TestSecretsAreSealedMaskedAndRedacted(t *testing.T) {
	const dbPassword, credPassword, badPassword = "db-Secret-123456", "cred-Secret-654321", "9876543210123"
	dir := t.TempDir()
	te := startEngine(t, dir, func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(secretArtifact(t)); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	tmp := t.TempDir()
	sc := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": tmp}}))

	// A refused request does not quote the secret it carries.
	env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt"), "dbPassword": json.Number(badPassword)}})
	if env.code != 400 || !strings.Contains(env.Error.Details, "/dbPassword: ") || strings.Contains(env.Error.Details, badPassword) {
		t.Errorf("invalid link: %d %s", env.code, env.Error.Details)
	}

	params := map[string]any{"mountLocation": filepath.Join(tmp, "mnt"), "dbPassword": dbPassword,
		"credentials": map[string]any{"type": "NamedPasswordCredential", "username": "dbuser", "password": credPassword}}
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc, "parameters": params}))
	c.mustComplete("sync", c.call("POST", "delphix/database/ds/sync", map[string]any{}))

	// The plugin resolved the real credentials.
	snaps := c.list("delphix/snapshot?database=ds")
	if len(snaps) == 0 || snaps[len(snaps)-1]["metadata"].(map[string]any)["user"] != "dbuser" {
		t.Errorf("snapshots: %v", snaps)
	}
	// Every answer shows the mask.
	answers := []envelope{c.call("GET", "delphix/database/ds", nil), c.call("GET", "delphix/database", nil)}
	for _, a := range answers {
		s := string(a.Result)
		if strings.Contains(s, dbPassword) || strings.Contains(s, credPassword) || strings.Count(s, secrets.SecretMask) != 2 {
			t.Errorf("answer: %s", s)
		}
	}
	// The engine's own view has them.
	var ct engineapi.Container
	if ok, err := te.store.FindObject(t.Context(), store.KindContainer, "ds", &ct); !ok || err != nil ||
		!strings.Contains(string(ct.Parameters), dbPassword) || !strings.Contains(string(ct.Parameters), credPassword) {
		t.Errorf("engine view: %s %v", ct.Parameters, err)
	}
	te.stop()
	files, _ := filepath.Glob(filepath.Join(dir, "engine.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range []string{dbPassword, credPassword, badPassword} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %s", f, s)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, secrets.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != secrets.KeySize {
		t.Errorf("key file: %v %v", fi, err)
	}

	// After a restart the redactor knows the stored secrets at once.
	r := logging.NewRedactor()
	te2 := startEngine(t, dir, func(c *Config) { c.Clock = nil; c.Redactor = r })
	if got := r.Redact("pw " + dbPassword + " " + credPassword); strings.Contains(got, "Secret") {
		t.Errorf("after restart: %q", got)
	}
	te2.stop()

	// A replaced key: the engine starts (and says so in its log); using
	// the dSource fails with a message naming the key file.
	os.WriteFile(filepath.Join(dir, secrets.KeyFile), bytes.Repeat([]byte{7}, secrets.KeySize), 0o600)
	var logs testio.Buffer
	te3 := startEngine(t, dir, func(c *Config) {
		c.Clock = nil
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "cannot be read") {
		t.Errorf("log: %s", logs.String())
	}
	c3 := te3.client(t)
	c3.login(testPassword)
	if env := c3.call("POST", "delphix/database/ds/sync", map[string]any{}); env.code != 500 || env.Error.ID != "exception.engine.secrets" ||
		!strings.Contains(env.Error.Details, secrets.KeyFile) || !strings.Contains(env.Error.Action, "Restore") {
		t.Errorf("sync with a replaced key: %+v", env)
	}
	if env := c3.call("GET", "delphix/database", nil); env.code != 200 {
		t.Errorf("the list still works: %+v", env)
	}
	te3.stop()
	os.WriteFile(filepath.Join(dir, secrets.KeyFile), []byte("short"), 0o600)
	if _, _, err := New(Config{DataDir: dir, AdminPassword: testPassword}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("short key: %v", err)
	}
}
