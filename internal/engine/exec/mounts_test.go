package exec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

func TestMountPathRules(t *testing.T) {
	r := MountPathRules{EngineDirs: []string{"/srv/dvp/engine", "/home/u/.dvp"}, Homes: []string{"/home/u"}, Suggest: "/home/u/dvp-scratch/ENV-1/dlpx_staged_mounts"}
	for _, c := range []struct{ path, want string }{
		{"relative/path", "is not absolute"},
		{"", "is not absolute"},
		{"/home/u/mnt/../../etc/x", `has a ".." component`},
		{"/", "is a system directory"},
		{"/tmp", "is a system directory"},
		{"/tmp/", "is a system directory"},
		{"/var", "is a system directory"},
		{"/var/tmp", "is a system directory"},
		{"/home", "is a system directory"},
		{"/root", "is a system directory"},
		{"/mnt", "is a system directory"},
		{"/etc", "inside the system directory /etc"},
		{"/etc/ssh", "inside the system directory /etc"},
		{"/usr/local/x", "inside the system directory /usr"},
		{"/bin/x", "inside the system directory /bin"},
		{"/sbin/x", "inside the system directory /sbin"},
		{"/lib64/x", "inside the system directory /lib64"},
		{"/boot/x", "inside the system directory /boot"},
		{"/dev/shm/x", "inside the system directory /dev"},
		{"/proc/1", "inside the system directory /proc"},
		{"/sys/fs/x", "inside the system directory /sys"},
		{"/run/sshd", "inside the system directory /run"},
		{"/var/run/x", "inside the system directory /var/run"},
		{"/home/u", "is a home directory"},
		{"/srv/dvp/engine", "inside the engine's directory /srv/dvp/engine"},
		{"/srv/dvp/engine/tmp", "inside the engine's directory /srv/dvp/engine"},
		{"/srv/dvp/engine/storage/APPDATA_CONTAINER-1/data", "inside the engine's directory"},
		{"/home/u/.dvp/logs", "inside the engine's directory /home/u/.dvp"},
		{"/srv/dvp", "holds the engine's directory /srv/dvp/engine"},
	} {
		_, err := r.Check(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want %q", c.path, err, c.want)
		}
		if err != nil && strings.Contains(c.want, "system") && !strings.Contains(err.Error(), "for example under /home/u/dvp-scratch/ENV-1/dlpx_staged_mounts") {
			t.Errorf("%q: %v does not say what to use", c.path, err)
		}
	}
	for in, want := range map[string]string{
		"/mnt/vdb1":                    "/mnt/vdb1",
		"/tmp/dvp-test-1/mnt/ds1/":     "/tmp/dvp-test-1/mnt/ds1",
		"/home/u/dvp-scratch/E/m/guid": "/home/u/dvp-scratch/E/m/guid",
		"/var/lib/postgresql/vdb":      "/var/lib/postgresql/vdb",
		"/home/u/.dvp-other":           "/home/u/.dvp-other",
		"/home/u/.dvp-scratch/E/m/g":   "/home/u/.dvp-scratch/E/m/g",
		"/srv/dvp/engine2":             "/srv/dvp/engine2",
	} {
		got, err := r.Check(in)
		if err != nil || got != want {
			t.Errorf("%q: %q %v; want %q", in, got, err, want)
		}
	}
}

func TestNested(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"/m/a", "/m/a", true}, {"/m/a", "/m/a/b", true}, {"/m/a/b", "/m/a", true},
		{"/m/a", "/m/ab", false}, {"/m/a", "/m/b", false},
	} {
		if got := Nested(c.a, c.b); got != c.want {
			t.Errorf("Nested(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

// mountBase is a directory the engine's user trusts (its ancestors
// included), for local mounts.
func mountBase(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("local mounts need Linux")
	}
	d := t.TempDir()
	os.Chmod(d, 0o755)
	l := newLocalExec(engineapi.Environment{HostType: engineapi.HostLocal})
	if _, err := l.Mount(context.Background(), d, filepath.Join(d, "probe"), false); err != nil {
		t.Skipf("the test directory is not trusted here: %v", err)
	}
	os.Remove(filepath.Join(d, "probe"))
	return d
}

func TestLocalMountNeverReplacesWhatExists(t *testing.T) {
	base := mountBase(t)
	ctx := context.Background()
	l := newLocalExec(engineapi.Environment{HostType: engineapi.HostLocal})
	storage := filepath.Join(base, "storage")
	os.Mkdir(storage, 0o700)
	other := filepath.Join(base, "other-storage")
	os.Mkdir(other, 0o700)

	emptyDir := filepath.Join(base, "empty")
	os.Mkdir(emptyDir, 0o755)
	file := filepath.Join(base, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	foreign := filepath.Join(base, "foreign")
	os.Symlink(other, foreign)
	for p, want := range map[string]string{emptyDir: "it is a directory the engine did not make", file: "it is a file", foreign: "not to this container's storage"} {
		_, err := l.Mount(ctx, storage, p, false)
		var me *MountError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "never replaces") || me.Action == "" {
			t.Errorf("%s: %v; want a MountError with %q", p, err, want)
		}
	}
	if fi, err := os.Lstat(emptyDir); err != nil || !fi.IsDir() {
		t.Errorf("the existing empty directory is gone: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Error("the existing file changed")
	}
	if tgt, _ := os.Readlink(foreign); tgt != other {
		t.Errorf("the other container's link was replaced: %s", tgt)
	}

	// A new mount: missing parents made, the link made, made again (remount) as is.
	mp := filepath.Join(base, "mnt/a/vdb1")
	for i := 0; i < 2; i++ {
		if m, err := l.Mount(ctx, storage, mp, i > 0); err != nil || m != MountSymlink {
			t.Fatalf("mount %d: %s %v", i, m, err)
		}
	}
	if tgt, _ := os.Readlink(mp); tgt != storage {
		t.Fatalf("link -> %s", tgt)
	}
	if err := l.Verify(ctx, storage, mp, MountSymlink, false); err != nil {
		t.Fatal(err)
	}

	// Swapped for a link elsewhere: Verify fails, Unmount leaves it.
	os.Remove(mp)
	os.Symlink(other, mp)
	if err := l.Verify(ctx, storage, mp, MountSymlink, false); err == nil || !strings.Contains(err.Error(), "no longer the engine's link") {
		t.Errorf("verify after a swap: %v", err)
	}
	if err := l.Unmount(ctx, storage, mp, MountSymlink); err == nil || !strings.Contains(err.Error(), "left "+mp+" in place") {
		t.Errorf("unmount after a swap: %v", err)
	}
	if tgt, _ := os.Readlink(mp); tgt != other {
		t.Errorf("the swapped link was removed or changed: %s", tgt)
	}

	// Gone: Verify fails unless its absence is accepted.
	os.Remove(mp)
	if err := l.Verify(ctx, storage, mp, MountSymlink, false); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Errorf("verify of a missing mount: %v", err)
	}
	if err := l.Verify(ctx, storage, mp, MountSymlink, true); err != nil {
		t.Errorf("verify of a missing mount at teardown: %v", err)
	}

	// Ours: Unmount removes the link, not the storage.
	os.WriteFile(filepath.Join(storage, "data"), []byte("x"), 0o600)
	if _, err := l.Mount(ctx, storage, mp, false); err != nil {
		t.Fatal(err)
	}
	if err := l.Unmount(ctx, storage, mp, MountSymlink); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(mp); !os.IsNotExist(err) {
		t.Errorf("the link is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(storage, "data")); err != nil {
		t.Errorf("the storage lost its data: %v", err)
	}
}

func TestLocalMountRefusesUnsafeParents(t *testing.T) {
	base := mountBase(t)
	ctx := context.Background()
	l := newLocalExec(engineapi.Environment{HostType: engineapi.HostLocal})
	storage := filepath.Join(base, "storage")
	os.Mkdir(storage, 0o700)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	os.Symlink(real, filepath.Join(base, "via-link"))
	for p, want := range map[string]string{
		filepath.Join(open, "vdb"):            "can be written by other users (mode 0777)",
		filepath.Join(open, "sub/vdb"):        "has no sticky bit",
		filepath.Join(base, "via-link/vdb"):   "is a symbolic link",
		filepath.Join(base, "via-link/x/vdb"): "is a symbolic link",
	} {
		_, err := l.Mount(ctx, storage, p, false)
		var me *MountError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), want) || !strings.Contains(me.Action, "no other user can write") {
			t.Errorf("%s: %v; want a MountError with %q", p, err, want)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was made", p)
		}
	}
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Errorf("something was made through the link: %v", entries)
	}
}
