package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/jsonschemamsg/msgtest"
)

// TestCorpus runs every testdata/config/cases/*.txtar archive: its files
// are written to a fresh directory ($ROOT in their text is replaced by it),
// plugin_config.yml is loaded, and the problems must match the "want"
// section exactly (see msgtest.ParseWant). Messages may use $ROOT.
func TestCorpus(t *testing.T) {
	msgtest.EachCase(t, "../../testdata/config/cases/*.txtar", 30, func(t *testing.T, name string, archive []msgtest.File) {
		root := t.TempDir()
		want := ""
		for _, f := range archive {
			data := strings.ReplaceAll(string(f.Data), "$ROOT", root)
			if f.Name == "want" {
				want = data
				continue
			}
			p := filepath.Join(root, filepath.FromSlash(f.Name))
			if strings.HasSuffix(f.Name, "/") { // a directory
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f.Name) == "plugin_config.yml" && strings.Contains(name, "noeol") {
				data = strings.TrimSuffix(data, "\n")
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		valid, exps, err := msgtest.ParseWant(want)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, "plugin_config.yml")
		for _, f := range archive {
			if filepath.Base(f.Name) == "plugin_config.yml" {
				path = filepath.Join(root, filepath.FromSlash(f.Name))
				break
			}
		}
		cfg, probs := Load(path)
		for _, p := range probs {
			if p.File != path {
				t.Errorf("problem with File %q, want %q", p.File, path)
			}
		}
		if cfg == nil && valid {
			t.Errorf("valid config returned no Config")
		}
		for _, p := range probs {
			if p.Hint == "" || p.Line < 1 || p.Column < 1 {
				t.Errorf("problem without hint or position: %+v", p)
			}
		}
		if d := msgtest.Match(probs, valid, exps); len(d) > 0 {
			t.Errorf("%s\nall problems:\n%s", strings.Join(d, "\n"), msgtest.Dump(probs))
		}
	})
}
