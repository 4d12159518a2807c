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
