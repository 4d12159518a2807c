//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// systemDirs are the host's directories a SystemOnly command sees
// (read-only): its programs and libraries. Those that are links (a merged
// /usr) are links there too.
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// systemDevices are the devices a SystemOnly command sees in /dev.
var systemDevices = []string{"null", "zero", "full", "random", "urandom"}

// stagingDir is where the new root is assembled before the init moves into
// it (a directory every system has; what it holds is not used).
const stagingDir = "/tmp"

// hostEntry is one path of the host kept in a SystemOnly view, opened
// before anything is mounted.
type hostEntry struct {
	path   string // in the host's view (and the same in the new root)
	fd     int    // O_PATH descriptor; -1 for a link
	dir    bool
	link   string // the link's target, for a link
	device bool   // a device (bound without the read-only remount)
}

// openHostEntry opens path (without following a final link); ok is false
// when it does not exist.
func openHostEntry(path string, device bool) (hostEntry, bool, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return hostEntry{}, false, nil
	}
	if err != nil {
		return hostEntry{}, false, err
	}
	e := hostEntry{path: path, fd: -1, device: device}
	if st.Mode()&os.ModeSymlink != 0 {
		if e.link, err = os.Readlink(path); err != nil {
			return hostEntry{}, false, err
		}
		return e, true, nil
	}
	if device && st.Mode()&os.ModeCharDevice == 0 {
		return hostEntry{}, false, nil
	}
	if !device && !st.IsDir() && !st.Mode().IsRegular() {
		return hostEntry{}, false, nil
	}
	e.dir = st.IsDir()
	if e.fd, err = unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err != nil {
		return hostEntry{}, false, fmt.Errorf("opening %s: %v", path, err)
	}
	return e, true, nil
}

// enterSystemRoot assembles the file system of a SystemOnly command in a
// new tmpfs — the system's directories and /etc entries bound read-only,
// the devices, a new /proc, an empty /tmp — and makes it the root: the
// host's root is detached, so nothing else of it (the engine's data, the
// users' homes, a hard link to a secret anywhere outside those
// directories) can be reached by any path. The exposed paths are bound
// afterwards (setupMounts) from descriptors opened before, while the
// host's root is still attached at oldRoot; detach then removes it.
func enterSystemRoot() (detach func() error, err error) {
	entries, err := openSystemEntries()
	if err != nil {
		return nil, err
	}
	root := stagingDir
	if err := makeSystemRoot(root); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := placeHostEntry(root, e); err != nil {
			return nil, err
		}
	}
	if err := makeDevLinksAndProc(root); err != nil {
		return nil, err
	}
	return pivotInto(root)
}

// openSystemEntries opens the host's paths a SystemOnly view keeps: the
// system's directories, the /etc entries of SystemEtc and the devices
// (those that do not exist are left out).
func openSystemEntries() ([]hostEntry, error) {
	var entries []hostEntry
	add := func(path string, device bool) error {
		e, ok, err := openHostEntry(path, device)
		if err != nil {
			return err
		}
		if ok {
			entries = append(entries, e)
		}
		return nil
	}
	for _, d := range systemDirs {
		if err := add(d, false); err != nil {
			return nil, err
		}
	}
	for _, name := range SystemEtc {
		if err := add(filepath.Join("/etc", name), false); err != nil {
			return nil, err
		}
	}
	for _, name := range systemDevices {
		if err := add(filepath.Join("/dev", name), true); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// makeSystemRoot mounts the new root's tmpfs at root with its top
// directories.
func makeSystemRoot(root string) error {
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m,nr_inodes=4096"); err != nil {
		return fmt.Errorf("making the sandbox's root at %s: %v", root, err)
	}
	for _, d := range []string{"etc", "dev", "proc", "tmp"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// placeHostEntry puts e at its path under root: a link as a link, a
// directory or file bound from its descriptor (which it closes), read-only
// unless it is a device.
func placeHostEntry(root string, e hostEntry) error {
	dst := filepath.Join(root, e.path)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if e.fd < 0 {
		return os.Symlink(e.link, dst)
	}
	if e.dir {
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
	} else if err := os.WriteFile(dst, nil, 0o644); err != nil {
		return err
	}
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(e.fd), dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s: %v", e.path, err)
	}
	unix.Close(e.fd)
	if !e.device {
		if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			return fmt.Errorf("making %s read-only: %v", e.path, err)
		}
	}
	return nil
}

// makeDevLinksAndProc adds /dev's links to the standard descriptors and a
// /proc of this PID namespace (the engine's processes, and their
// environment, are not in it).
func makeDevLinksAndProc(root string) error {
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(root, "dev", name)); err != nil {
			return err
		}
	}
	if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %v", err)
	}
	return nil
}

// pivotInto makes root the root. The host's stays attached at oldRoot
// until the exposed paths are bound (a bind's source must be a mount of
// this namespace); detach then removes it.
func pivotInto(root string) (detach func() error, err error) {
	if err := os.Mkdir(filepath.Join(root, oldRoot), 0o700); err != nil {
		return nil, err
	}
	if err := unix.Chdir(root); err != nil {
		return nil, err
	}
	if err := unix.PivotRoot(".", "."+oldRoot); err != nil {
		return nil, fmt.Errorf("entering the sandbox's root: %v", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, err
	}
	return func() error {
		if err := unix.Unmount(oldRoot, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detaching the host's root: %v", err)
		}
		return os.Remove(oldRoot)
	}, nil
}

// oldRoot is where the host's root is while a SystemOnly root is made.
const oldRoot = "/.host-root"

// mountScratch makes path a new private tmpfs of size bytes (at most one
// inode per 4 KiB of it), owned by the sandbox's user.
func mountScratch(path string, size int64) error {
	inodes := max(size/4096, 1024)
	if err := unix.Mount("tmpfs", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("mode=0700,size=%d,nr_inodes=%d", size, inodes)); err != nil {
		return fmt.Errorf("making the scratch directory %s: %v", path, err)
	}
	return nil
}
