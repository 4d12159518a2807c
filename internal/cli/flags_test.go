package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An existing artifact that cannot be written is click's "is not
// writable" usage error. Root may write any file, so this runs as another
// user only.
func TestCheckArtifactPathNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write any file")
	}
	p := filepath.Join(t.TempDir(), "artifact.json")
	if err := os.WriteFile(p, []byte("{}"), 0o444); err != nil {
		t.Fatal(err)
	}
	err := checkArtifactPath(p)
	if err == nil || !strings.Contains(err.Error(), "File '"+p+"' is not writable.") {
		t.Errorf("%v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkArtifactPath(p); err != nil {
		t.Errorf("a writable artifact: %v", err)
	}
}

// firstGiven reads a short cluster as pflag does: flag letters until one
// that takes a value, then that value; a value argument is not a flag.
func TestFirstGivenReadsClusters(t *testing.T) {
	app, _ := testApp(t, "", false)
	app.IO.Getwd = os.Getwd
	cmd := newInitCmd(app)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-s", "x", "-t", "UNIX"}, "ingestion-strategy"},
		{[]string{"-t", "UNIX", "-s", "x"}, "host-type"},
		{[]string{"-tunixs", "-s", "x"}, "host-type"}, // the value holds an s
		{[]string{"-sstaged", "-t", "UNIX"}, "ingestion-strategy"},
		{[]string{"-n", "-t", "-s", "x"}, "ingestion-strategy"}, // -t is -n's value
		{[]string{"--plugin-name", "-t", "--ingestion-strategy=x"}, "ingestion-strategy"},
		{[]string{"--", "-t"}, "ingestion-strategy"},
	} {
		if got := firstGiven(cmd, c.args, []string{"ingestion-strategy", "host-type"}); got != c.want {
			t.Errorf("firstGiven(%q) = %s, want %s", c.args, got, c.want)
		}
	}
}
