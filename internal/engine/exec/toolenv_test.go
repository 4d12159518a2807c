//go:build unix

package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// TestToolsGetNoSecrets: the tools the engine runs itself — cp for a
// snapshot, rsync (and the ssh it starts) for an SSH environment — got
// the engine's whole environment, DVP_ENGINE_ADMIN_PASSWORD included, which
// an ssh configured with SendEnv passes to the remote host. Stand-ins for
// cp and rsync on PATH record what they got; a cp that says a lot (a
// storage of unreadable files) is quoted bounded.
func TestToolsGetNoSecrets(t *testing.T) {
	bin, work := t.TempDir(), t.TempDir()
	for _, tool := range []string{"cp", "rsync"} {
		script := "#!/bin/sh\nenv > " + filepath.Join(work, tool+".env") + "\nhead -c 10000000 /dev/zero | tr '\\0' x >&2\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("DVP_ENGINE_ADMIN_PASSWORD", "s3cret-admin-password")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cret-aws")

	err := CopyTree(context.Background(), t.TempDir(), filepath.Join(work, "dst"))
	if err == nil || len(err.Error()) > maxToolOutput+1024 || !strings.Contains(err.Error(), "cp said more than 64 KiB") {
		t.Errorf("cp failing with 10 MB of output: an error of %d bytes; want it cut at 64 KiB, saying so", len(errText(err)))
	}
	s := newSSHExec(engineapi.Environment{Name: "remote", Host: "host.invalid", User: "u", SSHKeyFile: "/nonexistent"})
	if err := s.Pull(context.Background(), pluginhost.SyncRequest{SourceDirectory: "/src"}, filepath.Join(work, "pulled")); err == nil || len(err.Error()) > maxToolOutput+1024 {
		t.Errorf("rsync failing with 10 MB of output: an error of %d bytes", len(errText(err)))
	}
	for _, tool := range []string{"cp", "rsync"} {
		b, err := os.ReadFile(filepath.Join(work, tool+".env"))
		if err != nil {
			t.Fatalf("%s did not run: %v", tool, err)
		}
		if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "DVP_") {
			t.Errorf("%s got the engine's secrets in its environment:\n%s", tool, b)
		}
		if !strings.Contains(string(b), "PATH=") {
			t.Errorf("%s got no PATH:\n%s", tool, b)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
