package engine

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSecretFileWithHardLinksWarns: a secret file with another hard link
// is hidden from local commands by its path only; the engine says so at
// start, naming the file and how to fix it. A file with one link is quiet.
func TestSecretFileWithHardLinksWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("link counts are not read on Windows")
	}
	dir := t.TempDir()
	key, pw := filepath.Join(dir, "tls.key"), filepath.Join(dir, "password")
	os.WriteFile(key, []byte("KEY"), 0o600)
	os.WriteFile(pw, []byte("PW"), 0o600)
	if err := os.Link(key, filepath.Join(dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	warnSecretFileLinks(slog.New(slog.NewTextHandler(&buf, nil)), []string{pw, key, "", filepath.Join(dir, "missing")})
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "The secret file "+key+" has 2 hard links") || !strings.Contains(out, "find / -samefile") {
		t.Errorf("warnings:\n%s", out)
	}
}

// TestReadableSecretFileWarns: a password file or TLS key that other
// users of the machine can read (the umask's 0644) gives them the admin
// password; the engine says so at start, naming the file and the fix.
func TestReadableSecretFileWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits on Windows")
	}
	dir := t.TempDir()
	open, closed := filepath.Join(dir, "open"), filepath.Join(dir, "closed")
	os.WriteFile(open, []byte("PW"), 0o600)
	os.Chmod(open, 0o644)
	os.WriteFile(closed, []byte("PW"), 0o600)
	var buf bytes.Buffer
	warnSecretFileLinks(slog.New(slog.NewTextHandler(&buf, nil)), []string{open, closed})
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "The secret file "+open+" can be read by other users of this machine (mode 0644)") ||
		!strings.Contains(out, "chmod 600 "+open) {
		t.Errorf("warnings:\n%s", out)
	}
}
