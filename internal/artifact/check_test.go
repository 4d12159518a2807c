package artifact_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/internal/zipfile"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// check runs the engine's checks on an encoded artifact.
func check(t *testing.T, doc []byte) (*artifact.Artifact, *artifact.SourceInfo, diag.List) {
	t.Helper()
	var zipBytes bytes.Buffer
	f, err := artifact.Scan(bytes.NewReader(doc), artifact.ScanOptions{SourceCode: func(r io.Reader) error {
		_, err := io.Copy(&zipBytes, base64.NewDecoder(base64.StdEncoding, r))
		return err
	}})
	if err != nil {
		return nil, nil, diag.List{{Severity: diag.Error, Message: "scan: " + err.Error()}}
	}
	a, ps := artifact.CheckFields(f, artifact.CheckOptions{CompileSchema: schema.CheckCompiles})
	if len(ps.Errors()) > 0 {
		return nil, nil, ps
	}
	info, zps := artifact.CheckSourceZip(bytes.NewReader(zipBytes.Bytes()), int64(zipBytes.Len()), artifact.ZipLimits{})
	return a, info, append(ps, zps...)
}

func TestCheckAcceptsValidArtifacts(t *testing.T) {
	bin, err := enginetest.RealPluginBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []enginetest.Options{
		{}, {Staged: true}, {Binary: bin, MigrationIDs: []string{"1", "1.2", "10"}},
	} {
		a, info, ps := check(t, enginetest.Bytes(o))
		if len(ps.Errors()) > 0 || a == nil || info == nil {
			t.Fatalf("valid artifact refused: %v", ps)
		}
		if info.Record == nil || info.BinarySHA256 != info.Record.BinarySHA256 || info.Entries != 3 {
			t.Errorf("info %+v", info)
		}
		if o.Staged != (a.PluginType() == protocol.PluginTypeStaged) {
			t.Errorf("plugin type %s", a.PluginType())
		}
	}
}

func mutate(f func(m map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(enginetest.Bytes(enginetest.Options{}), &m); err != nil {
		panic(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return b
}

func sub(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func TestCheckRefusesBrokenArtifacts(t *testing.T) {
	zipOf := func(files ...zipfile.File) string {
		var b bytes.Buffer
		if err := zipfile.Write(&b, files); err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b.Bytes())
	}
	elf := enginetest.MinimalELF()
	rec, _ := json.Marshal(enginetest.Record(elf))
	cases := []struct {
		name string
		doc  []byte
		want []string // substrings of the problems
	}{
		{"missing fields", mutate(func(m map[string]any) { delete(m, "manifest"); delete(m, "pluginId") }),
			[]string{`the required field "manifest" is missing`, `the required field "pluginId" is missing`}},
		{"wrong types", mutate(func(m map[string]any) { m["name"] = 3; m["rootSquashEnabled"] = "yes"; m["hostTypes"] = "UNIX" }),
			[]string{"/name: must be a string, not a number", "/rootSquashEnabled: must be a boolean", "/hostTypes: must be an array"}},
		{"bad values", mutate(func(m map[string]any) {
			m["type"] = "Toolkit"
			m["pluginId"] = "mongo"
			m["buildNumber"] = "0.0"
			m["language"] = "PYTHON311"
			m["entryPoint"] = "nocolon"
			m["hostTypes"] = []string{"LINUX"}
		}), []string{`/type: must be "Plugin"`, `"mongo" is not a plugin id`, `"0.0" is not a build number`, `"PYTHON311" is not supported`,
			`/entryPoint: "nocolon" does not match`, `/hostTypes/0: must be one of "UNIX", "WINDOWS", not "LINUX"`}},
		{"unknown field", mutate(func(m map[string]any) { m["extra"] = 1 }), []string{`/extra: unknown field "extra"`}},
		{"engine api too new", mutate(func(m map[string]any) { sub(m, "engineApi")["minor"] = 12 }), []string{"needs engine API 1.12.16"}},
		{"engine api malformed", mutate(func(m map[string]any) { sub(m, "engineApi")["major"] = 1.5 }), []string{"/engineApi/major: must be a non-negative integer"}},
		{"lua pairing", mutate(func(m map[string]any) { m["luaName"] = "x" }), []string{"luaName and minimumLuaVersion must be given together"}},
		{"direct with staged ops", mutate(func(m map[string]any) { sub(m, "manifest")["hasLinkedWorker"] = true }),
			[]string{"/manifest/hasLinkedWorker: is true, but a DIRECT plugin cannot have this operation"}},
		{"staged type mismatch", mutate(func(m map[string]any) { sub(m, "linkedSourceDefinition")["type"] = "PluginLinkedSource" }),
			[]string{`/linkedSourceDefinition/type: must be one of`}},
		{"manifest flag missing", mutate(func(m map[string]any) { delete(sub(m, "manifest"), "hasInitialize") }),
			[]string{`/manifest: the required field "hasInitialize" is missing`}},
		{"bad migration ids", mutate(func(m map[string]any) { sub(m, "manifest")["migrationIdList"] = []string{"2", "1", "0.0", "1.x", "01"} }),
			[]string{`"0.0" is not allowed`, `"1.x" does not follow`, `"01" is not in canonical form`, `"01" has the same canonical form`, "is not sorted"}},
		{"schema does not compile", mutate(func(m map[string]any) { sub(m, "snapshotSchema")["type"] = "strings" }),
			[]string{"/snapshotSchema: the schema does not compile"}},
		{"schema fetches a url", mutate(func(m map[string]any) {
			sub(m, "snapshotSchema")["properties"] = map[string]any{"x": map[string]any{"$ref": "https://example.com/s.json"}}
		}), []string{"resolves schema references offline only"}},
		{"unknown platform definition", mutate(func(m map[string]any) {
			sub(m, "snapshotSchema")["properties"] = map[string]any{"x": map[string]any{"$ref": "https://delphix.com/platform/api#/definitions/nope"}}
		}), []string{"/snapshotSchema: the schema does not compile"}},
		{"identity field not a property", mutate(func(m map[string]any) { sub(m, "discoveryDefinition")["repositoryIdentityFields"] = []string{"nope"} }),
			[]string{`/discoveryDefinition/repositoryIdentityFields/0: "nope" is not a property of repositorySchema`}},
		{"name field a list", mutate(func(m map[string]any) { sub(m, "discoveryDefinition")["repositoryNameField"] = []string{"home"} }),
			[]string{`/discoveryDefinition/repositoryNameField: must be a string (a property name), not an array ["home"]: the engine cannot name discovered objects by it; ` +
				`dvp copies the nameField of repositoryDefinition in schema.json into the artifact as it is, so write it there as a string`}},
		{"identity fields a string", mutate(func(m map[string]any) { sub(m, "discoveryDefinition")["sourceConfigIdentityFields"] = "db" }),
			[]string{`/discoveryDefinition/sourceConfigIdentityFields: must be a list of property names (strings), not a string "db": the engine cannot identify discovered objects by it; ` +
				`dvp copies the identityFields of sourceConfigDefinition in schema.json into the artifact as they are, so write them there as a list of strings`}},
		{"identity field a number, name field null", mutate(func(m map[string]any) {
			sub(m, "discoveryDefinition")["repositoryIdentityFields"] = []any{"home", 2}
			sub(m, "discoveryDefinition")["sourceConfigNameField"] = nil
		}), []string{`/discoveryDefinition/repositoryIdentityFields/1: must be a string (a property name), not a number 2: `,
			`/discoveryDefinition/sourceConfigNameField: must be a string (a property name), not null: `}},
		{"sourceCode not a string", mutate(func(m map[string]any) { m["sourceCode"] = 5 }), []string{"/sourceCode: must be a string"}},
		{"sourceCode not base64", mutate(func(m map[string]any) { m["sourceCode"] = "%%%%" }), []string{"scan: illegal base64"}},
		{"sourceCode not a zip", mutate(func(m map[string]any) { m["sourceCode"] = base64.StdEncoding.EncodeToString([]byte("hello")) }),
			[]string{"is not a ZIP archive"}},
		{"no binary", mutate(func(m map[string]any) { m["sourceCode"] = zipOf(zipfile.File{Name: "build.json", Data: rec}) }),
			[]string{`the ZIP has no plugin binary "plugin"`}},
		{"no build record", mutate(func(m map[string]any) { m["sourceCode"] = zipOf(zipfile.File{Name: "plugin", Data: elf}) }),
			[]string{`the ZIP has no build record "build.json"`}},
		{"binary not elf", mutate(func(m map[string]any) {
			fake := []byte("#!/bin/sh\necho hi\n")
			r, _ := json.Marshal(enginetest.Record(fake))
			m["sourceCode"] = zipOf(zipfile.File{Name: "plugin", Data: fake}, zipfile.File{Name: "build.json", Data: r})
		}), []string{"is not an ELF executable"}},
		{"binary for arm64", mutate(func(m map[string]any) {
			arm := append([]byte(nil), elf...)
			arm[18] = 183 // EM_AARCH64
			r, _ := json.Marshal(enginetest.Record(arm))
			m["sourceCode"] = zipOf(zipfile.File{Name: "plugin", Data: arm}, zipfile.File{Name: "build.json", Data: r})
		}), []string{"not x86-64"}},
		{"record does not match binary", mutate(func(m map[string]any) {
			other, _ := json.Marshal(enginetest.Record([]byte("other")))
			m["sourceCode"] = zipOf(zipfile.File{Name: "plugin", Data: elf}, zipfile.File{Name: "build.json", Data: other})
		}), []string{"does not match the plugin binary"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, ps := check(t, c.doc)
			all := ps.Errors().String()
			if all == "" {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestCheckWarnsAboutMissingRequiredOperations(t *testing.T) {
	doc := mutate(func(m map[string]any) { sub(m, "manifest")["hasVirtualReconfigure"] = false })
	_, _, ps := check(t, doc)
	if len(ps.Errors()) != 0 || !strings.Contains(ps.Warnings().String(), "virtual.reconfigure") {
		t.Errorf("problems %v", ps)
	}
}

// rawZip builds a ZIP with arbitrary headers (names and modes WriteZip refuses).
func rawZip(t *testing.T, entries ...func(w *zip.Writer)) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		e(w)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func entry(name string, mode os.FileMode, data []byte) func(w *zip.Writer) {
	return func(w *zip.Writer) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		f, _ := w.CreateHeader(h)
		f.Write(data)
	}
}

func TestSourceZipEntriesCannotEscape(t *testing.T) {
	elf := enginetest.MinimalELF()
	rec, _ := json.Marshal(enginetest.Record(elf))
	good := []func(*zip.Writer){entry("plugin", 0o755, elf), entry("build.json", 0o644, rec)}
	for _, c := range []struct {
		name string
		bad  func(*zip.Writer)
		want string
	}{
		{"absolute", entry("/etc/passwd", 0o644, nil), "absolute path"},
		{"dotdot", entry("src/../../x", 0o644, nil), "goes up a directory"},
		{"dotdot alone", entry("..", 0o644, nil), "goes up a directory"},
		{"backslash", entry(`..\..\x`, 0o644, nil), "backslash"},
		{"drive", entry("C:/x", 0o644, nil), "drive letter"},
		{"unclean", entry("a//b", 0o644, nil), "not a clean path"},
		{"dot", entry("./a", 0o644, nil), "not a clean path"},
		{"control", entry("a\nb", 0o644, nil), "control character"},
		{"symlink", entry("link", os.ModeSymlink|0o777, []byte("/etc")), `ZIP entry "link" is a symbolic link, not a regular file`},
		{"fifo", entry("pipe", os.ModeNamedPipe|0o644, nil), `ZIP entry "pipe" is a FIFO, not a regular file`},
		{"device", entry("dev", os.ModeDevice|0o644, nil), `ZIP entry "dev" is a device, not a regular file`},
		{"duplicate", entry("plugin", 0o755, elf), `two entries named "plugin"`},
		{"file as dir", func(w *zip.Writer) { entry("build.json/x", 0o644, nil)(w) }, `is inside "build.json", which is a file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := rawZip(t, append(append([]func(*zip.Writer){}, good...), c.bad)...)
			_, ps := artifact.CheckSourceZip(bytes.NewReader(z), int64(len(z)), artifact.ZipLimits{})
			if !strings.Contains(ps.String(), c.want) {
				t.Errorf("problems %q lack %q", ps.String(), c.want)
			}
		})
	}
	z := rawZip(t, good...)
	if _, ps := artifact.CheckSourceZip(bytes.NewReader(z), int64(len(z)), artifact.ZipLimits{}); len(ps) != 0 {
		t.Fatalf("good zip refused: %v", ps)
	}
	// Limits.
	big := rawZip(t, append(good, entry("big", 0o644, make([]byte, 1<<20)))...)
	if _, ps := artifact.CheckSourceZip(bytes.NewReader(big), int64(len(big)), artifact.ZipLimits{MaxUncompressed: 1 << 19}); !strings.Contains(ps.String(), "more than the limit") {
		t.Errorf("size limit not applied: %v", ps)
	}
	if _, ps := artifact.CheckSourceZip(bytes.NewReader(big), int64(len(big)), artifact.ZipLimits{MaxEntries: 2}); !strings.Contains(ps.String(), "entries, more than the limit") {
		t.Errorf("entry limit not applied: %v", ps)
	}
	// A flipped byte in compressed data is caught by the CRC check.
	corrupt := rawZip(t, append(good, entry("data", 0o644, bytes.Repeat([]byte("abcdefgh"), 4096)))...)
	idx := bytes.Index(corrupt, []byte("data"))
	corrupt[idx+4+8] ^= 0xff
	if _, ps := artifact.CheckSourceZip(bytes.NewReader(corrupt), int64(len(corrupt)), artifact.ZipLimits{}); len(ps) == 0 {
		t.Error("a corrupt entry was accepted")
	}
}

func TestExtractZipStaysInside(t *testing.T) {
	dir := t.TempDir()
	z := rawZip(t, entry("plugin", 0o755, enginetest.MinimalELF()), entry("a/b.txt", 0o644, []byte("hi")))
	p := dir + "/ok.zip"
	os.WriteFile(p, z, 0o644)
	out := t.TempDir()
	if err := zipfile.Extract(p, out, 1<<20, artifact.BinaryEntry); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out + "/a/b.txt"); string(b) != "hi" {
		t.Errorf("extracted %q", b)
	}
	if st, _ := os.Stat(out + "/plugin"); st.Mode().Perm()&0o100 == 0 {
		t.Error("plugin not executable")
	}
	bad := rawZip(t, entry("../escape.txt", 0o644, []byte("x")))
	os.WriteFile(p, bad, 0o644)
	if err := zipfile.Extract(p, t.TempDir(), 1<<20, artifact.BinaryEntry); err == nil {
		t.Error("an escaping entry was extracted")
	}
	if _, err := os.Stat(dir + "/escape.txt"); err == nil {
		t.Error("file written outside")
	}
	bomb := rawZip(t, entry("big", 0o644, make([]byte, 1<<20)))
	os.WriteFile(p, bomb, 0o644)
	if err := zipfile.Extract(p, t.TempDir(), 1000, artifact.BinaryEntry); err == nil {
		t.Error("size limit not applied on extraction")
	}
}

func TestWriteZipIsDeterministic(t *testing.T) {
	files := enginetest.ZipFiles(enginetest.Options{})
	var a, b bytes.Buffer
	zipfile.Write(&a, files)
	rev := append([]zipfile.File(nil), files...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	zipfile.Write(&b, rev)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("WriteZip depends on the input order")
	}
	if err := zipfile.Write(io.Discard, []zipfile.File{{Name: "../x"}}); err == nil {
		t.Error("WriteZip wrote an unsafe name")
	}
}

func TestBuildNumbersAndUpgrades(t *testing.T) {
	old := enginetest.Artifact(enginetest.Options{BuildNumber: "2.1", MigrationIDs: []string{"1", "2"}}, nil)
	same := enginetest.Artifact(enginetest.Options{BuildNumber: "2.1.0", MigrationIDs: []string{"1", "2"}}, nil)
	if ps := artifact.CheckUpgrade(old, same); len(ps) != 0 {
		t.Errorf("equal build refused: %v", ps)
	}
	down := enginetest.Artifact(enginetest.Options{BuildNumber: "2.0.9", MigrationIDs: []string{"1"}, Staged: true}, nil)
	ps := artifact.CheckUpgrade(old, down).String()
	for _, w := range []string{"build 2.0.9 is older than the installed build 2.1", `migration id "2"`, "plugin type changes from DIRECT to STAGED"} {
		if !strings.Contains(ps, w) {
			t.Errorf("upgrade problems lack %q: %s", w, ps)
		}
	}
}
