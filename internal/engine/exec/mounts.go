package exec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/safefs"
)

// Local mounts (docs/engine.md, "Mounts"). On a local environment the
// engine "mounts" a container's storage (a directory in its data
// directory) as a symbolic link at the mount path. The link is made with
// symlinkat in a parent directory that safefs opened without following a
// link and found trusted (owned by root, the engine's user or the
// environment's OS user, writable by nobody else), so no other user can
// swap it; it never replaces what exists; before each plugin operation the
// engine checks it is still its own link to the storage; and it is removed
// only when it is.

// systemTrees are directories no mount path may be in: the system's own.
var systemTrees = []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
	"/run", "/sbin", "/sys", "/usr", "/var/lock", "/var/run"}

// systemDirs are directories no mount path may be (what is inside them may).
var systemDirs = []string{"/", "/home", "/media", "/mnt", "/opt", "/root", "/snap", "/srv", "/tmp", "/var", "/var/tmp", "/var/lib", "/lost+found"}

// MountPathRules are what a local mount path is checked against besides
// the system directories.
type MountPathRules struct {
	// EngineDirs are the engine's own directories (its data directory,
	// ~/.dvp of its user and of the environment's OS user): no mount path
	// may be in one, or hold one.
	EngineDirs []string
	// Homes are home directories: none may be a mount path itself.
	Homes []string
	// Suggest is where a mount path could go instead (in messages).
	Suggest string
}

// inside tells whether p is dir or inside it.
func inside(p, dir string) bool { return fsutil.Within(dir, p) }

// Check refuses a mount path that is not absolute and clean of ".."
// components, is a system directory or inside one, or is in (or holds)
// one of the engine's directories. It returns the path cleaned.
func (r MountPathRules) Check(p string) (string, error) {
	use := ""
	if r.Suggest != "" {
		use = " (for example under " + r.Suggest + ")"
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("the mount path %q is not absolute: give an absolute path%s", p, use)
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return "", fmt.Errorf("the mount path %q has a \"..\" component: give the path it means, without \"..\"", p)
		}
	}
	p = filepath.Clean(p)
	for _, d := range systemDirs {
		if p == d {
			return "", fmt.Errorf("the mount path %s is a system directory: give a directory of its own%s", p, use)
		}
	}
	for _, d := range systemTrees {
		if inside(p, d) {
			return "", fmt.Errorf("the mount path %s is inside the system directory %s: give a path outside the system's directories%s", p, d, use)
		}
	}
	for _, h := range r.Homes {
		if h != "" && p == filepath.Clean(h) {
			return "", fmt.Errorf("the mount path %s is a home directory: give a directory of its own%s", p, use)
		}
	}
	for _, d := range r.EngineDirs {
		if d == "" {
			continue
		}
		d = filepath.Clean(d)
		if inside(p, d) {
			return "", fmt.Errorf("the mount path %s is inside the engine's directory %s, which the engine manages (and cleans) itself: give a path outside it%s", p, d, use)
		}
		if inside(d, p) {
			return "", fmt.Errorf("the mount path %s holds the engine's directory %s: give a path outside it%s", p, d, use)
		}
	}
	return p, nil
}

// Nested tells whether two mount paths (cleaned) are the same or one is
// inside the other: two mounts cannot share them.
func Nested(a, b string) bool { return inside(a, b) || inside(b, a) }

// MountError is a refusal of a local mount: what the user reads, and
// what to do.
type MountError struct {
	Message, Action string
}

func (e *MountError) Error() string { return e.Message }

// mountOwner is who may own the directories of a local mount path, and
// who owns what the engine makes there.
type mountOwner struct {
	trust    safefs.Trust
	uid, gid int // owner of the directories made (-1: the engine's)
	euid     int // the engine's user: the owner of its links
}

func (l *localExec) owner() mountOwner {
	o := mountOwner{trust: safefs.Trust{Owners: []int{os.Geteuid()}}, uid: -1, gid: -1, euid: os.Geteuid()}
	if u := l.osUser; u != nil && u.UID != os.Geteuid() {
		o.trust.Owners = append(o.trust.Owners, u.UID)
		o.uid, o.gid = u.UID, u.GID
	}
	return o
}

// unsafeMount turns an error of safefs.OpenDir into a MountError.
func unsafeMount(mountPath string, err error) error {
	var ue *safefs.UnsafeError
	if errors.As(err, &ue) {
		return &MountError{Message: fmt.Sprintf("the mount path %s is not safe: %s", mountPath, ue.Error()),
			Action: "Give a mount path whose directories belong to root, the engine's user or the environment's OS user and that no other user can write (for example under that user's home directory or the environment's scratch path), or fix the owner and mode of the directory named."}
	}
	return err
}

// Mount makes the link mountPath -> storage; see the comment above.
func (l *localExec) Mount(_ context.Context, storage, mountPath string, _ bool) (string, error) {
	if !filepath.IsAbs(mountPath) {
		return "", &MountError{Message: fmt.Sprintf("the mount path %q is not absolute", mountPath), Action: "Give an absolute mount path."}
	}
	mountPath = filepath.Clean(mountPath)
	if l.userErr != nil {
		return "", &MountError{Message: l.userErr.Error(), Action: "Add the environment again with an OS user of this host (dvp environment add --local --os-user USER), or run the engine as root."}
	}
	o := l.owner()
	d, err := safefs.OpenDir(filepath.Dir(mountPath), o.trust, &safefs.Create{Mode: 0o755, UID: o.uid, GID: o.gid})
	if err != nil {
		return "", unsafeMount(mountPath, err)
	}
	defer d.Close()
	if err := l.giveStorage(storage); err != nil {
		return "", err
	}
	name := filepath.Base(mountPath)
	for try := 0; ; try++ {
		e, err := d.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			err = d.Symlink(storage, name)
			if errors.Is(err, fs.ErrExist) && try == 0 {
				continue // made meanwhile: look at it
			}
			if err != nil {
				return "", err
			}
			return MountSymlink, nil
		}
		if err != nil {
			return "", err
		}
		if err := ownLink(d, name, e, storage, o.euid); err != nil {
			return "", &MountError{Message: fmt.Sprintf("the mount path %s exists: %v; the engine never replaces what is there", mountPath, err),
				Action: fmt.Sprintf("Give a mount path that does not exist (the engine makes it), or remove %s yourself if nothing needs it.", mountPath)}
		}
		return MountSymlink, nil
	}
}

// ownLink says why the entry e (name in d) is not the engine's link to
// storage (nil when it is).
func ownLink(d *safefs.Dir, name string, e safefs.Entry, storage string, euid int) error {
	if !e.IsLink() {
		return errors.New("it is " + e.Kind() + " the engine did not make")
	}
	target, err := d.Readlink(name)
	if err != nil {
		return err
	}
	if target != storage {
		return fmt.Errorf("it is a symbolic link to %s, not to this container's storage", target)
	}
	if e.UID != euid {
		return fmt.Errorf("it is a symbolic link that the user %d made, not the engine", e.UID)
	}
	return nil
}

// Verify checks that the mount at mountPath is still the engine's link to
// storage in a trusted directory; missing says whether its absence is
// accepted.
func (l *localExec) Verify(_ context.Context, storage, mountPath, method string, missing bool) error {
	if method != MountSymlink {
		return nil
	}
	mountPath = filepath.Clean(mountPath)
	o := l.owner()
	d, err := safefs.OpenDir(filepath.Dir(mountPath), o.trust, nil)
	if errors.Is(err, fs.ErrNotExist) && missing {
		return nil
	}
	if err != nil {
		return unsafeMount(mountPath, err)
	}
	defer d.Close()
	e, err := d.Lstat(filepath.Base(mountPath))
	if errors.Is(err, fs.ErrNotExist) {
		if missing {
			return nil
		}
		return &MountError{Message: fmt.Sprintf("the mount %s is gone (it was removed outside the engine)", mountPath),
			Action: "Mount it again: sync the dSource, or start (or enable) the VDB."}
	}
	if err != nil {
		return err
	}
	if err := ownLink(d, filepath.Base(mountPath), e, storage, o.euid); err != nil {
		return &MountError{Message: fmt.Sprintf("the mount %s is no longer the engine's link to the storage: %v (something replaced it)", mountPath, err),
			Action: fmt.Sprintf("Find out what replaced %s; remove it if nothing needs it, then mount again (sync the dSource, or start the VDB).", mountPath)}
	}
	return nil
}

// Unmount removes the link at mountPath when it is the engine's link to
// storage; anything else is left where it is (and said).
func (l *localExec) Unmount(_ context.Context, storage, mountPath, _ string) error {
	mountPath = filepath.Clean(mountPath)
	o := l.owner()
	d, err := safefs.OpenDir(filepath.Dir(mountPath), o.trust, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("left %s in place: %w", mountPath, unsafeMount(mountPath, err))
	}
	defer d.Close()
	name := filepath.Base(mountPath)
	e, err := d.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ownLink(d, name, e, storage, o.euid); err != nil {
		return fmt.Errorf("left %s in place: %v", mountPath, err)
	}
	return d.Unlink(name)
}
