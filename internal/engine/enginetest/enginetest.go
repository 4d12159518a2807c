// Package enginetest builds synthetic plugin artifacts for tests of the
// engine, the upload client and the command line: a valid ZIP holding a real
// linux/amd64 ELF binary and its build record, wrapped in an artifact.json
// with the fields dvp 5.0.1 writes (docs/build.md, the artifact). It is imported by tests only.
package enginetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/zipfile"
)

// MinimalELF returns the 64-byte header of a linux/amd64 ELF executable,
// enough for the engine's binary check (not runnable).
func MinimalELF() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6], h[7] = 2, 1, 1, 0       // 64-bit, little-endian, version 1, SYSV
	binary.LittleEndian.PutUint16(h[16:], 2)  // ET_EXEC
	binary.LittleEndian.PutUint16(h[18:], 62) // EM_X86_64
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint16(h[52:], 64)
	return h
}

var (
	realOnce sync.Once
	realBin  []byte
	realErr  error
)

// RealPluginBinary builds (once per process) a tiny Go program for
// GOOS=linux GOARCH=amd64 and returns the executable.
func RealPluginBinary() ([]byte, error) {
	realOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dvp-enginetest-")
		if err != nil {
			realErr = err
			return
		}
		defer os.RemoveAll(dir)
		src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"synthetic dvp test plugin\\n\") }\n"
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			realErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/testplugin\n\ngo 1.21\n"), 0o644); err != nil {
			realErr = err
			return
		}
		out := filepath.Join(dir, "plugin")
		cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			realErr = fmt.Errorf("building the test plugin: %v\n%s", err, b)
			return
		}
		realBin, realErr = os.ReadFile(out)
	})
	return realBin, realErr
}

// goTool is the go command that builds the test plugin: the one on PATH,
// else the one of $GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Options describe a synthetic plugin.
type Options struct {
	ID           string // default: a fixed UUID
	Name         string // default "test-plugin"
	BuildNumber  string // default "1"
	Staged       bool
	MigrationIDs []string
	Binary       []byte // default MinimalELF()
	// Extra files in the ZIP (sources, resources).
	Extra []zipfile.File
	// Padding adds an incompressible resource of this many bytes, to make
	// big artifacts.
	Padding int64
	// Mutate edits the artifact before it is encoded.
	Mutate func(a *artifact.Artifact)
}

// DefaultID is the plugin id of Options without one.
const DefaultID = "0f9e3c4a-7b21-4d2e-9a55-1c2d3e4f5a6b"

func (o *Options) defaults() {
	if o.ID == "" {
		o.ID = DefaultID
	}
	if o.Name == "" {
		o.Name = "test-plugin"
	}
	if o.BuildNumber == "" {
		o.BuildNumber = "1"
	}
	if o.Binary == nil {
		o.Binary = MinimalELF()
	}
}

// Record returns the build record of a binary.
func Record(bin []byte) artifact.BuildRecord {
	sum := sha256.Sum256(bin)
	return artifact.BuildRecord{GoVersion: runtime.Version(), Target: artifact.BinaryTarget, SDKVersion: "0.1.0-test", BinarySHA256: hex.EncodeToString(sum[:])}
}

// ZipFiles returns the files of the plugin's sourceCode ZIP.
func ZipFiles(o Options) []zipfile.File {
	o.defaults()
	rec, _ := json.MarshalIndent(Record(o.Binary), "", "    ")
	files := []zipfile.File{
		{Name: artifact.BinaryEntry, Mode: 0o755, Data: o.Binary},
		{Name: artifact.BuildRecordEntry, Data: rec},
		{Name: "src/main.go", Data: []byte("package main\n\nfunc main() {}\n")},
	}
	return append(files, o.Extra...)
}

// Zip returns the sourceCode ZIP of the plugin (without padding).
func Zip(o Options) []byte {
	var b bytes.Buffer
	if err := zipfile.Write(&b, ZipFiles(o)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

var schemaObject = json.RawMessage(`{"type": "object", "properties": {}}`)

// Artifact returns the artifact of the plugin, sourceCode set from zipBytes
// (nil: Zip(o)).
func Artifact(o Options, zipBytes []byte) *artifact.Artifact {
	o.defaults()
	if zipBytes == nil {
		zipBytes = Zip(o)
	}
	linked := artifact.TypeLinkedDirectSourceDefinition
	if o.Staged {
		linked = artifact.TypeLinkedStagedSourceDefinition
	}
	ids := o.MigrationIDs
	if ids == nil {
		ids = []string{}
	}
	a := &artifact.Artifact{
		Type: artifact.TypePlugin, PluginID: o.ID, Name: o.Name, DefaultLocale: artifact.DefaultLocale,
		Language: artifact.LanguageGo, HostTypes: []string{artifact.HostTypeUnix}, EntryPoint: "main:Plugin",
		BuildNumber: o.BuildNumber, BuildAPI: artifact.BuildAPIVersion, EngineAPI: artifact.EngineAPIVersion,
		RootSquashEnabled: true, SourceCode: base64.StdEncoding.EncodeToString(zipBytes),
		VirtualSourceDefinition: artifact.SourceDefinition{Type: artifact.TypeVirtualSourceDefinition, Parameters: json.RawMessage(`{"type": "object", "properties": {"mountPath": {"type": "string", "format": "unixpath"}}}`)},
		LinkedSourceDefinition:  artifact.SourceDefinition{Type: linked, Parameters: json.RawMessage(`{"type": "object", "properties": {"credentials": {"$ref": "https://delphix.com/platform/api#/definitions/passwordCredentialsSupplier"}}}`)},
		DiscoveryDefinition: artifact.DiscoveryDefinition{
			Type: artifact.TypeDiscoveryDefinition, ManualSourceConfigDiscovery: true,
			RepositoryIdentityFields: []string{"home"}, RepositoryNameField: "home",
			RepositorySchema:           json.RawMessage(`{"type": "object", "properties": {"home": {"type": "string", "prettyName": "Home \u00e9"}}}`),
			SourceConfigIdentityFields: []string{"db"}, SourceConfigNameField: "db",
			SourceConfigSchema: json.RawMessage(`{"type": "object", "properties": {"db": {"type": "string"}}}`),
		},
		SnapshotSchema:               schemaObject,
		SnapshotParametersDefinition: artifact.SnapshotParametersDefinition{Type: artifact.TypeSnapshotParametersDefinition, Schema: schemaObject},
		Manifest: artifact.PluginManifest{
			Type: artifact.TypeManifest, HasRepositoryDiscovery: true, HasSourceConfigDiscovery: true,
			HasLinkedPostSnapshot: true, HasLinkedMountSpecification: o.Staged, HasVirtualConfigure: true,
			HasVirtualReconfigure: true, HasVirtualPostSnapshot: true, HasVirtualMountSpecification: true,
			MigrationIDList: ids,
		},
	}
	if o.Mutate != nil {
		o.Mutate(a)
	}
	return a
}

// Bytes returns the encoded artifact.json of the plugin (no padding).
func Bytes(o Options) []byte {
	b, err := artifact.Marshal(Artifact(o, nil))
	if err != nil {
		panic(err)
	}
	return b
}

// WriteFile writes the plugin's artifact.json to path and returns its
// size. With Padding, the ZIP and its base64 are streamed through
// temporary files, so memory stays small for any size.
func WriteFile(path string, o Options) (int64, error) {
	o.defaults()
	if o.Padding <= 0 {
		b := Bytes(o)
		return int64(len(b)), os.WriteFile(path, b, 0o644)
	}
	zf, err := os.CreateTemp(filepath.Dir(path), ".zip-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(zf.Name())
	defer zf.Close()
	pad, err := os.CreateTemp(filepath.Dir(path), ".pad-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(pad.Name())
	if _, err := io.CopyN(pad, rand.Reader, o.Padding); err != nil {
		return 0, err
	}
	pad.Close()
	files := append(ZipFiles(o), zipfile.File{Name: "resources/padding.bin", Path: pad.Name()})
	if err := zipfile.Write(zf, files); err != nil {
		return 0, err
	}
	const marker = "@@SOURCECODE@@"
	a := Artifact(o, []byte{})
	a.SourceCode = marker
	doc, err := artifact.Marshal(a)
	if err != nil {
		return 0, err
	}
	head, tail, ok := strings.Cut(string(doc), marker)
	if !ok {
		return 0, fmt.Errorf("marker not found")
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	if _, err := io.WriteString(out, head); err != nil {
		return 0, err
	}
	if _, err := zf.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	enc := base64.NewEncoder(base64.StdEncoding, out)
	if _, err := io.Copy(enc, zf); err != nil {
		return 0, err
	}
	if err := enc.Close(); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(out, tail); err != nil {
		return 0, err
	}
	st, err := out.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), out.Close()
}

// SlowPlugin are the Options of testdata/plugins/slow (built as bin): a
// STAGED plugin whose repository is "slow", whose source configs are
// {"path": DIR} and whose dSources take {"mountLocation": PATH}; its
// sync waits while DIR holds a file "hang" or "hang-post"
// (testdata/plugins/README.md).
func SlowPlugin(bin []byte) Options {
	return Options{Name: "slow", Staged: true, Binary: bin, Mutate: func(a *artifact.Artifact) {
		a.DiscoveryDefinition.RepositorySchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}}`)
		a.DiscoveryDefinition.RepositoryIdentityFields, a.DiscoveryDefinition.RepositoryNameField = []string{"name"}, "name"
		a.DiscoveryDefinition.SourceConfigSchema = json.RawMessage(`{"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}`)
		a.DiscoveryDefinition.SourceConfigIdentityFields, a.DiscoveryDefinition.SourceConfigNameField = []string{"path"}, "path"
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string"}}}`)
		a.SnapshotSchema = json.RawMessage(`{"type": "object"}`)
		a.Manifest.HasLinkedPreSnapshot = true
	}}
}
