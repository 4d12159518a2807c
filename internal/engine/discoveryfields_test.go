package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// TestUploadRefusesNameAndIdentityFieldsAsWritten: dvp copies schema.json's
// nameField and identityFields into the artifact whatever their type (the
// SDK documentation's examples write "nameField": ["name"]). The engine
// names and identifies discovered objects by them, so an artifact with a
// name field that is not a string, or identity fields that are not a list
// of strings, is refused over HTTP with a reason naming each field, and the
// engine's plugins stay as they were: none installed on a first upload, the
// installed build kept on an upgrade.
func TestUploadRefusesNameAndIdentityFieldsAsWritten(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	asWritten := func(build string, fields map[string]string) []byte {
		return enginetest.Bytes(enginetest.Options{BuildNumber: build, Mutate: func(a *artifact.Artifact) {
			for k, v := range fields {
				if err := a.DiscoveryDefinition.SetField(k, json.RawMessage(v)); err != nil {
					t.Fatal(err)
				}
			}
		}})
	}
	refused := func(what string, env envelope, want ...string) {
		t.Helper()
		if env.Type != "ErrorResult" || env.code != 400 || env.Error.ID != "exception.toolkit.invalid.artifact" {
			t.Fatalf("%s: %d %+v; want a refusal", what, env.code, env)
		}
		for _, w := range want {
			if !strings.Contains(env.Error.Details, w) {
				t.Errorf("%s: the details lack %q:\n%s", what, w, env.Error.Details)
			}
		}
	}

	env := c.upload(asWritten("1", map[string]string{"repositoryNameField": `["home"]`, "sourceConfigIdentityFields": `"db"`}))
	refused("first upload", env,
		`- /discoveryDefinition/repositoryNameField: must be a string (a property name), not an array ["home"]: the engine cannot name discovered objects by it`,
		`- /discoveryDefinition/sourceConfigIdentityFields: must be a list of property names (strings), not a string "db": the engine cannot identify discovered objects by it`,
		"2 problem(s)")
	if list := c.toolkits(); len(list) != 0 {
		t.Fatalf("a refused first upload installed a plugin: %v", list)
	}

	if env := c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "1"})); env.Type != "OKResult" {
		t.Fatalf("a valid upload: %+v", env)
	}
	env = c.upload(asWritten("2", map[string]string{"sourceConfigNameField": `null`, "repositoryIdentityFields": `["home", 1]`}))
	refused("upgrade", env,
		`- /discoveryDefinition/sourceConfigNameField: must be a string (a property name), not null: the engine cannot name discovered objects by it`,
		`- /discoveryDefinition/repositoryIdentityFields/1: must be a string (a property name), not a number 1: the engine cannot identify discovered objects by it`)
	list := c.toolkits()
	if len(list) != 1 || list[0]["buildNumber"] != "1" {
		t.Fatalf("a refused upgrade changed the plugin: %v", list)
	}
	dd, _ := list[0]["discoveryDefinition"].(map[string]any)
	if dd["repositoryNameField"] != "home" || dd["sourceConfigNameField"] != "db" {
		t.Errorf("the installed build's discovery definition changed: %v", dd)
	}
}
