//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is an open directory that OpenDir checked.
type Dir struct {
	fd   int
	path string
}

// Entry describes one entry of a Dir, not following a link.
type Entry struct {
	Mode     uint32 // unix.S_IFMT bits and permissions
	UID, GID int
	Dev, Ino uint64
}

// IsLink tells whether the entry is a symbolic link.
func (e Entry) IsLink() bool { return e.Mode&unix.S_IFMT == unix.S_IFLNK }

// IsDir tells whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode&unix.S_IFMT == unix.S_IFDIR }

// Kind names what the entry is, for messages.
func (e Entry) Kind() string {
	switch e.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFREG:
		return "a file"
	}
	return "a special file"
}

const walkFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// OpenDir opens the directory path (absolute), checking every directory
// from "/" as the package says; with c, the missing directories are made.
// A refusal is an *UnsafeError; a component that is a link or not a
// directory is refused too.
func OpenDir(path string, t Trust, c *Create) (*Dir, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%s is not an absolute path", path)
	}
	path = filepath.Clean(path)
	var parts []string
	if path != "/" {
		parts = strings.Split(strings.TrimPrefix(path, "/"), "/")
	}
	fd, err := unix.Open("/", walkFlags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	cur := "/"
	if err := check(fd, cur, t, len(parts) == 0); err != nil {
		unix.Close(fd)
		return nil, err
	}
	for i, name := range parts {
		next := filepath.Join(cur, name)
		nfd, err := unix.Openat(fd, name, walkFlags, 0)
		if errors.Is(err, unix.ENOENT) && c != nil {
			nfd, err = mkdir(fd, name, c)
		}
		if err != nil {
			var st unix.Stat_t
			if serr := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil && (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) {
				e := entryOf(&st)
				unix.Close(fd)
				if e.IsLink() {
					target, _ := filepath.EvalSymlinks(next)
					return nil, &UnsafeError{Dir: next, Reason: fmt.Sprintf("is a symbolic link (to %s): the engine follows no link on the way to a mount path; give the path without links", target)}
				}
				return nil, &UnsafeError{Dir: next, Reason: "is " + e.Kind() + ", not a directory"}
			}
			unix.Close(fd)
			return nil, &os.PathError{Op: "open", Path: next, Err: err}
		}
		unix.Close(fd)
		fd, cur = nfd, next
		if err := check(fd, cur, t, i == len(parts)-1); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return &Dir{fd: fd, path: cur}, nil
}

// mkdir makes the directory name in the directory parent and opens it.
func mkdir(parent int, name string, c *Create) (int, error) {
	merr := unix.Mkdirat(parent, name, c.Mode)
	if merr != nil && !errors.Is(merr, unix.EEXIST) {
		return -1, merr
	}
	fd, err := unix.Openat(parent, name, walkFlags, 0)
	if err != nil || merr != nil { // made by someone else meanwhile: checked as found
		return fd, err
	}
	// Made here: its mode without the umask, and its owner.
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), c.Mode); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if c.UID >= 0 || c.GID >= 0 {
		if err := unix.Fchownat(fd, "", c.UID, c.GID, unix.AT_EMPTY_PATH); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// check refuses the directory fd (at path) when t does not trust it; the
// last directory of a path may not be writable by others at all.
func check(fd int, path string, t Trust, last bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if !t.trusts(int(st.Uid)) {
		return &UnsafeError{Dir: path, Reason: fmt.Sprintf("belongs to the user %s, who could replace what the engine makes in it", userName(int(st.Uid)))}
	}
	perm := st.Mode & 0o7777
	if perm&0o022 == 0 {
		return nil
	}
	if last {
		return &UnsafeError{Dir: path, Reason: fmt.Sprintf("can be written by other users (mode %04o), who could replace what the engine makes in it", perm)}
	}
	if perm&unix.S_ISVTX == 0 {
		return &UnsafeError{Dir: path, Reason: fmt.Sprintf("can be written by other users (mode %04o) and has no sticky bit, so they could rename what is in it", perm)}
	}
	return nil
}

func entryOf(st *unix.Stat_t) Entry {
	return Entry{Mode: st.Mode, UID: int(st.Uid), GID: int(st.Gid), Dev: uint64(st.Dev), Ino: st.Ino}
}

// Path is the directory's path as opened.
func (d *Dir) Path() string { return d.path }

// Close closes the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// Lstat describes the entry name, not following a link; a missing entry
// is an error that errors.Is(err, fs.ErrNotExist).
func (d *Dir) Lstat(name string) (Entry, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Entry{}, &os.PathError{Op: "lstat", Path: filepath.Join(d.path, name), Err: err}
	}
	return entryOf(&st), nil
}

// Readlink returns the target of the link name.
func (d *Dir) Readlink(name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(d.fd, name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: filepath.Join(d.path, name), Err: err}
	}
	return string(buf[:n]), nil
}

// Symlink makes name a link to target; it never replaces an entry (an
// existing one is an error that errors.Is(err, fs.ErrExist)).
func (d *Dir) Symlink(target, name string) error {
	if err := unix.Symlinkat(target, d.fd, name); err != nil {
		return &os.PathError{Op: "symlink", Path: filepath.Join(d.path, name), Err: err}
	}
	return nil
}

// Lchown changes the owner of the entry name itself (not a link's target).
func (d *Dir) Lchown(name string, uid, gid int) error {
	if err := unix.Fchownat(d.fd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lchown", Path: filepath.Join(d.path, name), Err: err}
	}
	return nil
}

// Unlink removes the entry name (a link itself, never its target); not a
// directory.
func (d *Dir) Unlink(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &os.PathError{Op: "unlink", Path: filepath.Join(d.path, name), Err: err}
	}
	return nil
}
