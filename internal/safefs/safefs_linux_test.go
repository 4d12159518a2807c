//go:build linux

package safefs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func me() Trust { return Trust{Owners: []int{os.Geteuid()}} }

// privateDir is a temporary directory whose ancestors are trusted: t.TempDir
// is under $TMPDIR, often /tmp (root's, sticky).
func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(d, me(), nil); err != nil {
		t.Skipf("the test directory %s is not trusted here: %v", d, err)
	}
	return d
}

func TestOpenDirCreatesMissingDirectories(t *testing.T) {
	base := privateDir(t)
	old := umask(0o077)
	defer umask(old)
	d, err := OpenDir(filepath.Join(base, "a/b/c"), me(), &Create{Mode: 0o755, UID: -1, GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path() != filepath.Join(base, "a/b/c") {
		t.Errorf("path %s", d.Path())
	}
	for _, p := range []string{"a", "a/b", "a/b/c"} {
		fi, err := os.Lstat(filepath.Join(base, p))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v (the mode is the one asked for, whatever the umask)", p, fi, err)
		}
	}
	// Without Create, a missing directory is an error.
	if _, err := OpenDir(filepath.Join(base, "x/y"), me(), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestOpenDirRefusesLinksAndWritableDirectories(t *testing.T) {
	base := privateDir(t)
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	os.Symlink(real, filepath.Join(base, "link"))
	os.WriteFile(filepath.Join(base, "file"), nil, 0o644)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	sticky := filepath.Join(base, "sticky")
	os.Mkdir(sticky, 0o755)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	os.Mkdir(filepath.Join(sticky, "mine"), 0o755)
	os.Mkdir(filepath.Join(open, "mine"), 0o755)
	group := filepath.Join(base, "group")
	os.Mkdir(group, 0o755)
	os.Chmod(group, 0o775)
	for _, c := range []struct {
		path, want string
	}{
		{filepath.Join(base, "link"), "is a symbolic link"},
		{filepath.Join(base, "link/x"), "is a symbolic link"},
		{filepath.Join(base, "file"), "is a file, not a directory"},
		{open, "can be written by other users (mode 0777)"},
		{filepath.Join(open, "mine"), "has no sticky bit"},
		{sticky, "can be written by other users (mode 1777)"},
		{group, "can be written by other users (mode 0775)"},
	} {
		_, err := OpenDir(c.path, me(), &Create{Mode: 0o755, UID: -1, GID: -1})
		var ue *UnsafeError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an UnsafeError with %q", c.path, err, c.want)
		}
	}
	if _, err := os.Lstat(filepath.Join(real, "x")); err == nil {
		t.Error("a directory was made through the link")
	}
	// Under a sticky directory, one's own directory is trusted.
	d, err := OpenDir(filepath.Join(sticky, "mine"), me(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestOpenDirRefusesOtherUsersDirectories(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	base := privateDir(t)
	theirs := filepath.Join(base, "theirs")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, 65534, 65534)
	_, err := OpenDir(filepath.Join(theirs, "x"), Trust{}, &Create{Mode: 0o755, UID: -1, GID: -1})
	var ue *UnsafeError
	if !errors.As(err, &ue) || ue.Dir != theirs || !strings.Contains(err.Error(), "belongs to the user") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Lstat(filepath.Join(theirs, "x")); err == nil {
		t.Error("a directory was made in the other user's directory")
	}
	// Trusted when that user is.
	d, err := OpenDir(filepath.Join(theirs, "x"), Trust{Owners: []int{65534}}, &Create{Mode: 0o755, UID: 65534, GID: 65534})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Lstat(filepath.Join(theirs, "x")); err != nil || owner(fi) != 65534 {
		t.Errorf("the directory made is not the user's: %v", err)
	}
}

func TestEntriesNeverFollowOrReplace(t *testing.T) {
	base := privateDir(t)
	target := filepath.Join(base, "target")
	os.Mkdir(target, 0o755)
	os.WriteFile(filepath.Join(target, "keep"), []byte("x"), 0o644)
	d, err := OpenDir(base, me(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Symlink(target, "l"); err != nil {
		t.Fatal(err)
	}
	if err := d.Symlink("/elsewhere", "l"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second link replaced the first: %v", err)
	}
	if err := d.Symlink("/elsewhere", "target"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a link replaced a directory: %v", err)
	}
	e, err := d.Lstat("l")
	if err != nil || !e.IsLink() || e.UID != os.Geteuid() {
		t.Fatalf("lstat %+v %v", e, err)
	}
	if got, _ := d.Readlink("l"); got != target {
		t.Errorf("readlink %s", got)
	}
	if err := d.Unlink("l"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "keep")); err != nil {
		t.Errorf("unlinking the link touched its target: %v", err)
	}
}
