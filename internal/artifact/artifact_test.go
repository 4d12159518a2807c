package artifact

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/sdk/protocol"
)

func goldenArtifact() *Artifact {
	m := PluginManifest{Type: TypeManifest, HasRepositoryDiscovery: true, HasVirtualConfigure: true, MigrationIDList: []string{"1", "2.1"}}
	return &Artifact{
		Type: TypePlugin, PluginID: "0f9e3c4a-7b21-4d2e-9a55-1c2d3e4f5a6b", Name: "acme-db é", DefaultLocale: "en-us",
		Language: "GO", HostTypes: []string{"UNIX"}, EntryPoint: "main:Plugin", BuildNumber: "3.1",
		BuildAPI: BuildAPIVersion, EngineAPI: EngineAPIVersion, RootSquashEnabled: true,
		SourceCode: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
		VirtualSourceDefinition: SourceDefinition{Type: TypeVirtualSourceDefinition,
			Parameters: json.RawMessage(`{"type":"object","properties":{"size":{"type":"number","minimum":1.0,"default":2.50}}}`)},
		LinkedSourceDefinition: SourceDefinition{Type: TypeLinkedDirectSourceDefinition, Parameters: json.RawMessage(`{"type": "object", "properties": {}}`)},
		DiscoveryDefinition: DiscoveryDefinition{
			Type: TypeDiscoveryDefinition, ManualSourceConfigDiscovery: true,
			RepositoryIdentityFields: []string{"home"}, RepositoryNameField: "home",
			RepositorySchema:           json.RawMessage(`{"type": "object", "properties": {"home": {"type": "string", "prettyName": "Home <dir> ☃"}}}`),
			SourceConfigIdentityFields: []string{"db"}, SourceConfigNameField: "db",
			SourceConfigSchema: json.RawMessage(`{"type": "object", "properties": {"db": {"type": "string"}}}`),
		},
		SnapshotSchema:               json.RawMessage(`{"type": "object", "properties": {}}`),
		SnapshotParametersDefinition: SnapshotParametersDefinition{Type: TypeSnapshotParametersDefinition, Schema: json.RawMessage(`{"type":"object","properties":{}}`)},
		Manifest:                     m,
		ExternalVersion:              "3.1-ü",
		LuaName:                      "acme",
		MinimumLuaVersion:            "2.3",
	}
}

// TestEncodeMatchesPython holds Encode to the bytes Python's
// json.dump(indent=4) writes for the same artifact (golden file made by
// Python, see testdata/engine).
func TestEncodeMatchesPython(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "engine", "artifact-golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Encode(&got, goldenArtifact()); err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("Encode differs from Python's json.dump:\n got: %s\nwant: %s", got.String(), want)
	}
}

func TestEncodeOmitsEmptyOptionalsAndKeepsEmptyLists(t *testing.T) {
	a := goldenArtifact()
	a.ExternalVersion, a.LuaName, a.MinimumLuaVersion = "", "", ""
	a.Manifest.MigrationIDList = nil
	b, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, absent := range []string{"externalVersion", "luaName", "minimumLuaVersion"} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("%s written although empty", absent)
		}
	}
	if !bytes.Contains(b, []byte(`"migrationIdList": []`)) || !bytes.Contains(b, []byte(`"extendedStartStopHooks": false`)) {
		t.Errorf("missing [] or extendedStartStopHooks:\n%s", s)
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "artifact.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := goldenArtifact()
	bad.SnapshotSchema = json.RawMessage(`{broken`)
	if err := WriteFile(p, bad); err == nil {
		t.Fatal("an artifact with invalid raw JSON was written")
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("a failed write changed the file: %q", b)
	}
	if err := WriteFile(p, goldenArtifact()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	f, err := Scan(mustOpen(t, p), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, ps := CheckFields(f, CheckOptions{CompileSchema: schema.CheckCompiles})
	if len(ps.Errors()) > 0 || a == nil {
		t.Fatalf("the golden artifact does not check: %v", ps)
	}
	if a.Name != "acme-db é" || a.Manifest.MigrationIDList[1] != "2.1" || a.PluginType() != protocol.PluginTypeDirect {
		t.Errorf("decoded %+v", a)
	}
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestMarshalBigSourceCode checks that a large sourceCode is copied, not
// decoded into code points (which would take four bytes a character).
func TestMarshalBigSourceCode(t *testing.T) {
	a := goldenArtifact()
	a.SourceCode = string(bytes.Repeat([]byte("QUJD"), 16<<20)) // 64 MiB
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := Marshal(a)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"sourceCode": "QUJDQUJD`)) {
		t.Fatal("sourceCode missing")
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Marshal allocated %d MiB for a 64 MiB sourceCode", alloc>>20)
	if alloc > 80<<20 {
		t.Errorf("Marshal allocated %d MiB for a 64 MiB sourceCode", alloc>>20)
	}
}

func TestDecodeRoundTripAndEscapedSource(t *testing.T) {
	a := goldenArtifact()
	a.SourceCode = "not base64 é \"q\""
	b, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"sourceCode": "not base64 \u00e9 \"q\"",`)) {
		t.Errorf("sourceCode not escaped as Python does:\n%s", b)
	}
	got, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Marshal(got)
	if !bytes.Equal(b, again) {
		t.Error("Decode then Marshal changes the artifact")
	}
	if _, err := Decode(bytes.NewReader([]byte(`{"type": "Plugin", "bogus": 1}`))); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestDecodeIsStrictAsPython(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, goldenArtifact()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := Decode(strings.NewReader(good)); err != nil {
		t.Fatalf("a valid artifact must decode: %v", err)
	}
	for name, doc := range map[string]string{
		"key in another case": strings.Replace(good, `"linkedSourceDefinition"`, `"linkedSourCeDefinition"`, 1),
		"invalid UTF-8":       strings.Replace(good, `"type": "Plugin"`, "\"type\": \"Plu\xffgin\"", 1),
	} {
		if _, err := Decode(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: Decode accepted it", name)
		}
	}
}

// TestNameAndIdentityFieldsAsWritten: a name field that is not a string and
// identity fields that are not a list of strings (which dvp copies from
// schema.json as they are) are written as they are, Python's json.dump
// layout, decode back into AsWritten, and are encoded again unchanged.
func TestNameAndIdentityFieldsAsWritten(t *testing.T) {
	a := goldenArtifact()
	dd := &a.DiscoveryDefinition
	for key, raw := range map[string]string{
		"repositoryNameField":        `["home"]`,
		"sourceConfigIdentityFields": `"db"`,
		"sourceConfigNameField":      `null`,
	} {
		if err := dd.SetField(key, json.RawMessage(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if err := dd.SetField("repositoryIdentityFields", json.RawMessage(`["home", "x"]`)); err != nil {
		t.Fatal(err)
	}
	if len(dd.AsWritten) != 3 || len(dd.RepositoryIdentityFields) != 2 {
		t.Fatalf("SetField: typed %q, as written %q", dd.RepositoryIdentityFields, dd.AsWritten)
	}
	if err := dd.SetField("repositorySchema", json.RawMessage(`{}`)); err == nil {
		t.Error("SetField set a field that is not a name or identity field")
	}
	b, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `
        "repositoryIdentityFields": [
            "home",
            "x"
        ],
        "repositoryNameField": [
            "home"
        ],
        "repositorySchema": {`
	want2 := `
        "sourceConfigIdentityFields": "db",
        "sourceConfigNameField": null,
        "sourceConfigSchema": {`
	if !bytes.Contains(b, []byte(want)) || !bytes.Contains(b, []byte(want2)) {
		t.Errorf("the fields are not written as they are:\n%s", b)
	}
	got, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g := got.DiscoveryDefinition
	var nameField bytes.Buffer
	json.Compact(&nameField, g.AsWritten["repositoryNameField"])
	if nameField.String() != `["home"]` || g.RepositoryNameField != "" || g.SourceConfigIdentityFields != nil ||
		len(g.AsWritten) != 3 || strings.Join(g.RepositoryIdentityFields, ",") != "home,x" {
		t.Errorf("decoded %+v", g)
	}
	again, _ := Marshal(got)
	if !bytes.Equal(b, again) {
		t.Error("Decode then Marshal changes the artifact")
	}
}
