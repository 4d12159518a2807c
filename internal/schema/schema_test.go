package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonschemamsg/msgtest"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// realistic is a schema.json of the size and shape of a real plugin.
const realistic = `{
    "repositoryDefinition": {
        "type": "object",
        "properties": {
            "name": { "type": "string", "prettyName": "Name" },
            "installPath": { "type": "string", "format": "unixpath", "prettyName": "Install path" },
            "version": { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$" }
        },
        "required": ["name", "installPath"],
        "nameField": "name",
        "identityFields": ["installPath"]
    },
    "sourceConfigDefinition": {
        "type": "object",
        "required": ["name", "port"],
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string" },
            "port": { "type": "integer", "minimum": 1, "maximum": 65535, "default": 5432 },
            "dataDir": { "type": "string", "format": "unixpath" }
        },
        "nameField": "name",
        "identityFields": ["name", "port"]
    },
    "virtualSourceDefinition": {
        "type": "object",
        "additionalProperties": false,
        "required": ["mountLocation"],
        "properties": {
            "mountLocation": { "type": "string", "format": "unixpath" },
            "recordSizeInKB": { "type": "integer", "default": 8 },
            "params": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key"],
                    "properties": { "key": { "type": "string" }, "value": { "type": "string" } }
                }
            }
        },
        "ordering": ["mountLocation", "params"]
    },
    "linkedSourceDefinition": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "sourceHost": { "type": "string", "format": "reference", "referenceType": "UNIX_HOST_ENVIRONMENT" },
            "sourceUser": { "type": "string", "format": "reference", "referenceType": "HOST_USER", "matches": "sourceHost" },
            "credentials": { "$ref": "https://delphix.com/platform/api#/definitions/passwordCredentialsSupplier" },
            "password": { "type": "string", "format": "password" },
            "mode": { "type": "string", "enum": ["full", "incremental"], "default": "full" }
        }
    },
    "snapshotDefinition": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "timestamp": { "type": "string" },
            "sizeInBytes": { "type": "number" }
        }
    },
    "snapshotParametersDefinition": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "resync": { "type": "boolean", "default": false }
        }
    }
}
`

func mustParse(t testing.TB, text string) *Schema {
	t.Helper()
	s, probs := Parse("schema.json", []byte(text))
	if s == nil || probs.HasErrors() || len(probs) != 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	return s
}

func TestRealisticSchema(t *testing.T) {
	s := mustParse(t, realistic)
	if len(s.Definitions) != 6 {
		t.Fatalf("%d definitions", len(s.Definitions))
	}
	// Definitions are the exact bytes of the file.
	raw := string(s.Definitions["snapshotDefinition"])
	if !strings.HasPrefix(raw, "{\n        \"type\": \"object\"") || !strings.HasSuffix(raw, "}") || !strings.Contains(realistic, raw) {
		t.Errorf("snapshotDefinition bytes: %q", raw)
	}
	port := s.Doc["sourceConfigDefinition"].(map[string]any)["properties"].(map[string]any)["port"].(map[string]any)
	if port["maximum"] != json.Number("65535") {
		t.Errorf("numbers are not json.Number: %#v", port["maximum"])
	}
	for ptr, want := range map[string][2]int{
		"":                      {1, 1},
		"/repositoryDefinition": {2, 29},
		"/sourceConfigDefinition/properties/port/maximum": {19, 67},
		"/virtualSourceDefinition/required/0":             {28, 22},
		"/nope":                                           {0, 0},
	} {
		if l, c := s.Position(ptr); l != want[0] || c != want[1] {
			t.Errorf("Position(%q) = %d:%d, want %d:%d", ptr, l, c, want[0], want[1])
		}
	}
	if l, c := s.KeyPosition("/linkedSourceDefinition"); l != 43 || c != 5 {
		t.Errorf("KeyPosition = %d:%d, want 43:5", l, c)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(p, []byte(realistic), 0o644); err != nil {
		t.Fatal(err)
	}
	s, probs := Load(p)
	if s == nil || len(probs) != 0 || s.Path != p {
		t.Fatalf("s=%v probs=%v", s, probs)
	}
	s, probs = Load(filepath.Join(dir, "missing.json"))
	if s != nil || len(probs) != 1 || probs[0].Message != "Unable to load schemas from '"+filepath.Join(dir, "missing.json")+"'. Error code: 2. Error message: No such file or directory" {
		t.Fatalf("missing file: %v", probs)
	}
	s, probs = Load(dir)
	if s != nil || len(probs) != 1 || !strings.Contains(probs[0].Message, "is a directory") {
		t.Fatalf("directory: %v", probs)
	}
}

func TestValidateValue(t *testing.T) {
	s := mustParse(t, realistic)
	cases := []struct {
		def   string
		value string
		want  []string // "pointer message" substrings in the order of diag.List.Sort (by message); none = valid
	}{
		{"sourceConfigDefinition", `{"name": "db", "port": 5432}`, nil},
		{"sourceConfigDefinition", `{"name": "db"}`, []string{"/port 'port' is a required property"}},
		{"sourceConfigDefinition", `{"name": "db", "port": 0, "extra": 1}`, []string{
			"/port 0 is less than the minimum of 1",
			"/extra Additional properties are not allowed ('extra' was unexpected)"}},
		{"sourceConfigDefinition", `{"name": 5, "port": "x"}`, []string{
			"/port 'x' is not of type 'integer'", "/name 5 is not of type 'string'"}},
		{"virtualSourceDefinition", `{"mountLocation": "/mnt/x", "params": [{"key": "a"}, {"value": "b"}]}`, []string{
			"/params/1/key 'key' is a required property"}},
		{"virtualSourceDefinition", "{\"mountLocation\": \"/mnt/\\u0000x\"}", []string{
			"/mountLocation '/mnt/\\x00x' is not a 'unixpath'"}},
		{"linkedSourceDefinition", `{"credentials": {"type": "NamedPasswordCredential", "username": "u", "password": "p"}, "password": "secret", "mode": "full"}`, nil},
		{"linkedSourceDefinition", `{"credentials": {"type": "CyberArkVaultCredential", "vault": "CYBERARK_VAULT-1", "queryString": "q", "expectedSecretType": "password"}}`, nil},
		{"linkedSourceDefinition", `{"credentials": {"type": "CyberArkVaultCredential", "vault": "CYBERARK_VAULT-1", "queryString": "q"}}`, []string{
			"/credentials {'queryString': 'q', 'type': 'CyberArkVaultCredential', 'vault': 'CYBERARK_VAULT-1'} is not valid under any of the given schemas"}},
		{"linkedSourceDefinition", `{"credentials": {"type": "NamedKeyPairCredential", "privateKey": "k"}}`, []string{
			"/credentials {'privateKey': 'k', 'type': 'NamedKeyPairCredential'} is not valid under any of the given schemas"}},
		{"linkedSourceDefinition", `{"mode": "partial"}`, []string{"/mode 'partial' is not one of ['full', 'incremental']"}},
		{"snapshotParametersDefinition", `{"resync": true}`, nil},
		{"snapshotParametersDefinition", `null`, []string{" None is not of type 'object'"}},
	}
	for _, c := range cases {
		var v any
		dec := json.NewDecoder(strings.NewReader(c.value))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		probs := s.ValidateValue(c.def, v)
		var got []string
		for _, p := range probs {
			got = append(got, p.Pointer+" "+p.Message)
			if p.File != c.def || p.Severity != diag.Error {
				t.Errorf("problem %+v", p)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s %s: got %q, want %q", c.def, c.value, got, c.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%s %s: got %q, want %q", c.def, c.value, got[i], c.want[i])
			}
		}
	}
	if probs := s.ValidateValue("nosuchDefinition", map[string]any{}); len(probs) != 1 || !strings.Contains(probs[0].Message, "is not one of the six definitions") {
		t.Errorf("unknown definition: %v", probs)
	}
}

// ValidateValue never fetches anything: a remote $ref is refused.
func TestValidateValueRefusesRemoteRefs(t *testing.T) {
	text := strings.Replace(realistic, `"timestamp": { "type": "string" }`, `"timestamp": { "$ref": "https://example.com/schemas/ts.json" }`, 1)
	s := mustParse(t, text)
	probs := s.ValidateValue("snapshotDefinition", map[string]any{"timestamp": "x"})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "offline only") {
		t.Fatalf("got %v", probs)
	}
	// The other definitions still work.
	if probs := s.ValidateValue("snapshotParametersDefinition", map[string]any{"resync": true}); len(probs) != 0 {
		t.Fatalf("got %v", probs)
	}
}

func TestValidateValueNonFinite(t *testing.T) {
	s := mustParse(t, realistic)
	// As jsonschema does, both the type and the maximum fail.
	probs := s.ValidateValue("sourceConfigDefinition", map[string]any{"name": "x", "port": mathInf()})
	if len(probs) != 2 || probs[0].Message != "inf is greater than the maximum of 65535" || probs[1].Message != "inf is not of type 'integer'" {
		t.Fatalf("got %v", probs)
	}
}

func mathInf() float64 { var z float64; return 1 / z }

func TestHostileInputs(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	deepArr := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	big := bytes.Repeat([]byte(" "), 10<<20)
	wide := `{"snapshotDefinition": {"enum": [` + strings.TrimSuffix(strings.Repeat("1,", 400000), ",") + `]}}`
	cases := []struct{ name, data, want string }{
		{"empty", "", "Expecting value: line 1 column 1 (char 0)"},
		{"non-utf8", "{\"a\": \"\xff\"}", "'utf-8' codec can't decode byte 0xff in position 7"},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00", "'utf-8' codec can't decode byte 0x89 in position 0"},
		{"binary-ascii", "\x00\x01\x02", "Expecting value: line 1 column 1 (char 0)"},
		{"10MB", string(big), "files larger than 4194304 bytes (4 MiB) are refused"},
		{"deep-objects-10k", deep, "maximum nesting depth of 1000 exceeded while decoding a JSON object"},
		{"deep-arrays-10k", deepArr, "maximum nesting depth of 1000 exceeded while decoding a JSON array"},
		{"bom", "\ufeff{}", "Unexpected UTF-8 BOM"},
		{"tabs", "{\t\"a\":\t\"\t\"}", "Invalid control character at: line 1 column 9 (char 8)"},
		{"huge-exponent", `{"snapshotDefinition": {"minimum": 1e999999999, "maxLength": 1e999999999}}`, "inf is not of type 'integer'"},
		{"wide-array", wide, "'snapshotParametersDefinition' is a required property"},
		{"nul", "{\"a\u0000\": 1}", "Invalid control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Bound the work, not the time: parsing a hostile file
			// allocates at most 1 KiB per byte it reads (the wide-array
			// case needs about 460), plus 16 MiB.
			probs := msgtest.ParseBounded(t, []byte(c.data), MaxFileSize, func(data []byte) diag.List {
				_, probs := Parse("schema.json", data)
				return probs
			})
			found := false
			for _, p := range probs {
				found = found || (p.Severity == diag.Error && strings.Contains(p.Message, c.want))
			}
			if !found {
				t.Errorf("no error containing %q in:\n%s", c.want, msgtest.Dump(probs))
			}
			if len(probs) > 50 {
				t.Errorf("%d problems: not a clean report", len(probs))
			}
		})
	}
}

func TestLineIndex(t *testing.T) {
	data := []byte("ab\r\ncé\rd\ne")
	li := pyjson.NewLineIndex(data)
	for off, want := range map[int][3]int{
		0: {1, 1, 0}, 2: {1, 3, 2}, 4: {2, 1, 3}, 5: {2, 2, 4}, 7: {2, 3, 5}, 8: {3, 1, 6}, 10: {4, 1, 8},
	} {
		l, c := li.Pos(off)
		if l != want[0] || c != want[1] || li.Char(off) != want[2] {
			t.Errorf("offset %d: %d:%d char %d, want %v", off, l, c, li.Char(off), want)
		}
	}
}

func FuzzSchemaParse(f *testing.F) {
	for _, s := range []string{
		realistic, "", "{}", "[]", `{"a": NaN, "b": -Infinity}`, `{"a": 1, "a": 2}`, `{"repositoryDefinition": {"type": 4}}`,
		`{"virtualSourceDefinition": {"properties": {"recordSizeInKB": {"type": "string", "default": 3}}}}`,
		`{"snapshotDefinition": {"pattern": "(?=x)", "required": ["a", "a"]}}`, "\"\\ud800\"", "{\"a\":\"\\u12\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, probs := Parse("schema.json", data)
		for _, p := range probs {
			if p.Message == "" || p.File != "schema.json" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if s == nil && !probs.HasErrors() {
			t.Fatalf("no schema and no error")
		}
		if s != nil && !probs.HasErrors() {
			for _, def := range DefinitionNames {
				s.ValidateValue(def, map[string]any{"x": json.Number("1.5"), "name": "n"})
			}
		}
	})
}

func BenchmarkLoadSchema(b *testing.B) {
	p := filepath.Join(b.TempDir(), "schema.json")
	if err := os.WriteFile(p, []byte(realistic), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, probs := Load(p)
		if s == nil || len(probs) != 0 {
			b.Fatal(probs)
		}
	}
}
