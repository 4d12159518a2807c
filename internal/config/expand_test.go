package config

import (
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// srcDir is expanded as Python's os.path.expanduser does before dvp's
// checks, and the message names the expanded path, as dvp's does.
func TestSrcDirTildeIsExpanded(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cases := map[string]string{
		"~/src": filepath.Join(home, "src"),
		"~":     home,
	}
	if u, err := user.Current(); err == nil && u.Username != "" && u.HomeDir != "" && !strings.Contains(u.Username, "/") {
		cases["~"+u.Username+"/x"] = filepath.Join(u.HomeDir, "x")
	}
	for srcDir, want := range cases {
		_, probs := Load(project(t, strings.Replace(validConfig, "srcDir: src", "srcDir: '"+srcDir+"'", 1)))
		msg := "The path '" + want + "' should be a relative path, but is not."
		if len(probs) != 1 || probs[0].Message != msg || probs[0].Pointer != "/srcDir" {
			t.Errorf("srcDir %s: got %v, want %q", srcDir, probs, msg)
		}
	}
	// An unknown user and a tilde inside a name stay as written: relative.
	for _, srcDir := range []string{"~no-such-user-dvp/src", "a~/src"} {
		_, probs := Load(project(t, strings.Replace(validConfig, "srcDir: src", "srcDir: '"+srcDir+"'", 1)))
		if len(probs) != 1 || !strings.HasSuffix(probs[0].Message, filepath.Clean(srcDir)+"' does not exist.") {
			t.Errorf("srcDir %s: got %v", srcDir, probs)
		}
	}
}
