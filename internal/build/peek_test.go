package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dvpkit/dvp/internal/config"
)

// TestPeekConfig: peekConfig gives config.Peek's srcDir and entryPoint,
// from its record once a build recorded them for the same bytes in the
// same work directory; a changed config, or the record of a copy of the
// project (another work directory), is not taken.
func TestPeekConfig(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"src", "other", WorkDir} {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(root, "plugin_config.yml")
	write := func(src string) {
		body := "id: 16bef554-9470-11e9-b2e3-8c8590d4a42c\nname: x\nlanguage: GO\nhostTypes:\n- UNIX\npluginType: STAGED\n" +
			"entryPoint: plugin_runner:plugin\nsrcDir: " + src + "\nschemaFile: schema.json\nbuildNumber: 0.1.0\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(wantSaved bool, wantSrc string) {
		t.Helper()
		cfg, save := peekConfig(path)
		want := config.Peek(path)
		if cfg == nil || want == nil || cfg.SrcPath != want.SrcPath || cfg.EntryPoint != want.EntryPoint || cfg.Dir != want.Dir || cfg.Path != want.Path {
			t.Fatalf("peekConfig: %+v; config.Peek: %+v", cfg, want)
		}
		if cfg.SrcPath != filepath.Join(root, wantSrc) {
			t.Fatalf("SrcPath %s", cfg.SrcPath)
		}
		if (save != nil) != wantSaved {
			t.Fatalf("recorded again: %v, want %v", save != nil, wantSaved)
		}
		if save != nil {
			save()
		}
	}
	write("src")
	check(true, "src")  // parsed, recorded
	check(false, "src") // from the record
	write("other")
	check(true, "other") // other bytes: parsed again
	check(false, "other")

	// A copy of the project brings the record, for another work directory.
	copyRoot := t.TempDir()
	for _, d := range []string{"src", "other", WorkDir} {
		os.MkdirAll(filepath.Join(copyRoot, filepath.FromSlash(d)), 0o755)
	}
	for _, f := range []string{"plugin_config.yml", filepath.Join(filepath.FromSlash(WorkDir), peekName)} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(copyRoot, f), data, 0o644)
	}
	root, path = copyRoot, filepath.Join(copyRoot, "plugin_config.yml")
	check(true, "other")
}

// TestKeepCompiled: the binary go build will replace is kept under a
// second name (so that the rename frees nothing), the one kept before is
// let go, and a binary already kept is left as it is.
func TestKeepCompiled(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "plugin")
	os.WriteFile(out, []byte("first"), 0o755)
	keepCompiled(out)
	same := func(a, b string) bool {
		ai, aerr := os.Stat(a)
		bi, berr := os.Stat(b)
		return aerr == nil && berr == nil && os.SameFile(ai, bi)
	}
	if !same(out, out+".kept") {
		t.Fatal("the binary was not kept")
	}
	keepCompiled(out) // kept already
	if !same(out, out+".kept") {
		t.Fatal("the kept binary was lost")
	}
	// go build renames a new binary over out.
	os.WriteFile(out+".new", []byte("second"), 0o755)
	if err := os.Rename(out+".new", out); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(out + ".kept"); string(data) != "first" {
		t.Fatalf("the replaced binary was not kept: %q", data)
	}
	keepCompiled(out)
	if !same(out, out+".kept") {
		t.Fatal("the new binary was not kept")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d files in the work directory", len(ents))
	}
}
