package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestSecureDataDirRefusesOthersWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o700)
	for _, m := range []os.FileMode{0o777, 0o770, 0o722} {
		os.Chmod(dir, m)
		err := SecureDataDir(dir)
		if err == nil || !strings.Contains(err.Error(), "can be written by other users") || !strings.Contains(err.Error(), "chmod 700 "+dir) {
			t.Errorf("mode %o: %v", m, err)
		}
		if mode(t, dir) != m {
			t.Errorf("mode %o changed to %o", m, mode(t, dir))
		}
	}
}

func TestSecureDataDirMakesEverythingPrivate(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	outside := filepath.Join(root, "outside.txt")
	files := map[string]os.FileMode{
		DBFile:          0o644,
		DBFile + "-wal": 0o644,
		"secrets.key":   0o644,
		filepath.Join(BlobsDir, "sha256", "ab", "abcd"):             0o644,
		filepath.Join(PluginBinDir, "abcd", "plugin"):               0o755,
		filepath.Join(PluginLogsDir, "p1", "debug.log"):             0o644,
		filepath.Join(StorageDir, "ref1", "data", "user-file"):      0o644,
		filepath.Join(SnapshotsDir, "snap1", "data", "sub", "file"): 0o664,
	}
	for p, m := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte("x"), m); err != nil {
			t.Fatal(err)
		}
		os.Chmod(full, m)
	}
	os.WriteFile(outside, []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(dir, PluginLogsDir, "link"))
	os.Chmod(dir, 0o755)
	if err := SecureDataDir(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		"": 0o700, DBFile: 0o600, DBFile + "-wal": 0o600, "secrets.key": 0o600,
		BlobsDir: 0o700, filepath.Join(BlobsDir, "sha256", "ab"): 0o700, filepath.Join(BlobsDir, "sha256", "ab", "abcd"): 0o600,
		filepath.Join(PluginBinDir, "abcd", "plugin"): 0o700, filepath.Join(PluginLogsDir, "p1", "debug.log"): 0o600,
		StorageDir: 0o700, filepath.Join(StorageDir, "ref1"): 0o700, SnapshotsDir: 0o700, filepath.Join(SnapshotsDir, "snap1"): 0o700,
		// The containers' own data keeps its modes.
		filepath.Join(StorageDir, "ref1", "data"): 0o755, filepath.Join(StorageDir, "ref1", "data", "user-file"): 0o644,
		filepath.Join(SnapshotsDir, "snap1", "data", "sub", "file"): 0o664,
	}
	for p, m := range want {
		if got := mode(t, filepath.Join(dir, p)); got != m {
			t.Errorf("%s: mode %o, want %o", p, got, m)
		}
	}
	if got := mode(t, outside); got != 0o644 {
		t.Errorf("a link was followed: %s has mode %o", outside, got)
	}
}

func TestOpenCreatesAPrivateDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o755) // an existing directory
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.Exec(`INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', 'x')`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DBFile, DBFile + "-wal", DBFile + "-shm"} {
		if got := mode(t, filepath.Join(dir, name)); got != 0o600 {
			t.Errorf("%s: mode %o, want 0600", name, got)
		}
	}
	for _, d := range []string{BlobsDir, TmpDir, PluginLogsDir} {
		if got := mode(t, filepath.Join(dir, d)); got != 0o700 {
			t.Errorf("%s: mode %o, want 0700", d, got)
		}
	}
}
