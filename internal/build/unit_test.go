package build

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/zipfile"
)

func TestParseGoOutput(t *testing.T) {
	src := filepath.FromSlash("/p/src")
	out := "# example.com/p\n./plugin_runner.go:12:2: undefined: foo\n\tmore detail\ngenerated/types.go:3:1: syntax error\n../.dvp/sdk/x.go:7: bad\n" +
		"go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)\n"
	ps := parseGoOutput(out, src, "1.99")
	if len(ps) != 4 {
		t.Fatalf("got %d problems: %v", len(ps), ps)
	}
	want := []struct {
		file      string
		line, col int
		msg       string
	}{
		{"/p/src/plugin_runner.go", 12, 2, "undefined: foo\n    more detail"},
		{"/p/src/generated/types.go", 3, 1, "syntax error"},
		{"/p/.dvp/sdk/x.go", 7, 0, "bad"},
		{"/p/src/go.mod", 0, 0, "the plugin needs Go 1.99 or newer (go.mod says 'go 1.99'), but the go command on PATH is go 1.26.8"},
	}
	for i, w := range want {
		p := ps[i]
		if p.File != filepath.FromSlash(w.file) || p.Line != w.line || p.Column != w.col || p.Message != w.msg {
			t.Errorf("problem %d = %s:%d:%d %q, want %s:%d:%d %q", i, p.File, p.Line, p.Column, p.Message, w.file, w.line, w.col, w.msg)
		}
	}
}

func TestCompareGoVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.24", "1.24", 0}, {"go1.26.8", "1.24", 1}, {"1.23.9", "1.24", -1}, {"go1.25rc1", "1.25", 0}, {"1.100", "1.99", 1},
	} {
		if got := compareGoVersions(c.a, c.b); got != c.want {
			t.Errorf("compareGoVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestStripKeys(t *testing.T) {
	in := `{"type": "object", "nameField": "name", "properties": {"nameField": {"type": "string"}}, "identityFields": ["a", "b"], "x<y": 1.50}`
	out, removed, err := stripKeys([]byte(in), discoveryKeys)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"object","properties":{"nameField": {"type": "string"}},"x\u003cy":1.50}`; string(out) != want {
		t.Errorf("stripped = %s, want %s", out, want)
	}
	if string(removed["nameField"]) != `"name"` || string(removed["identityFields"]) != `["a", "b"]` {
		t.Errorf("removed = %s", removed)
	}
}

// TestWriteZipLargeFile checks that a file compressed in parallel pieces
// reads back intact and that the output does not depend on the cores.
func TestWriteZipLargeFile(t *testing.T) {
	data := make([]byte, 3*zipfile.DeflateChunk+12345)
	r := rand.New(rand.NewSource(1))
	for i := range data {
		data[i] = byte(r.Intn(16)) // compressible
	}
	files := []zipfile.File{{Name: "big", Data: data}, {Name: "a/small", Data: []byte("hello")}}
	var b1, b2 bytes.Buffer
	if err := zipfile.WritePacked(&b1, files, nil); err != nil {
		t.Fatal(err)
	}
	p, err := zipfile.Pack(data, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := zipfile.WritePacked(&b2, files, map[string]*zipfile.PackedFile{"big": p}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("packing ahead changes the ZIP")
	}
	// The binary's way: stored, from its file.
	binPath := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(binPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	stored, err := packBinary(binPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Close()
	var b3 bytes.Buffer
	if err := zipfile.WritePacked(&b3, files, map[string]*zipfile.PackedFile{"big": stored}); err != nil {
		t.Fatal(err)
	}
	zr3, err := zip.NewReader(bytes.NewReader(b3.Bytes()), int64(b3.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr3.File {
		if f.Name != "big" {
			continue
		}
		rc, _ := f.Open()
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) || f.Method != zip.Store {
			t.Errorf("stored entry: method %d, err %v, equal %v", f.Method, err, bytes.Equal(got, data))
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(b1.Bytes()), int64(b1.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if f.Name == "big" && !bytes.Equal(got, data) {
			t.Error("big: content differs")
		}
		if !f.Modified.Equal(zipfile.Epoch) {
			t.Errorf("%s: time %v", f.Name, f.Modified)
		}
	}
	if strings.Join(names, ",") != "a/small,big" {
		t.Errorf("entries = %v", names)
	}
}

// TestRawEntryHeaderMatches checks that an entry written raw has the same
// local header as archive/zip's own (zipfile.Write) for the same file.
func TestRawEntryHeaderMatches(t *testing.T) {
	data := bytes.Repeat([]byte("plugin binary "), 200000)
	var mine, theirs bytes.Buffer
	if err := zipfile.WritePacked(&mine, []zipfile.File{{Name: "plugin", Mode: 0o755, Data: data}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := zipfile.Write(&theirs, []zipfile.File{{Name: "plugin", Mode: 0o755, Data: data}}); err != nil {
		t.Fatal(err)
	}
	read := func(b []byte) *zip.File {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		return zr.File[0]
	}
	m, th := read(mine.Bytes()), read(theirs.Bytes())
	if m.ModifiedDate != th.ModifiedDate || m.ModifiedTime != th.ModifiedTime || !m.Modified.Equal(th.Modified) ||
		m.Mode() != th.Mode() || !bytes.Equal(m.Extra, th.Extra) || m.CreatorVersion != th.CreatorVersion || m.ReaderVersion != th.ReaderVersion {
		t.Errorf("raw header %+v\ndiffers from %+v", m.FileHeader, th.FileHeader)
	}
}

// A value quoted in a problem is one line: compacted, and cut when long.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"[\n    \"name\"\n]":                 `["name"]`,
		`{"a": 1}`:                           `{"a":1}`,
		`"` + strings.Repeat("x", 100) + `"`: `"` + strings.Repeat("x", 76) + "...",
		"not json\n":                         "not json\n",
	} {
		if got := oneLine([]byte(in)); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
