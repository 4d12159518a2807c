package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/internal/filelock"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// WorkDir is dvp build's own directory in a project, relative to the
// project root (beside the SDK copy in .dvp/sdk): the compiled plugin at a
// stable path, so that go build's own up-to-date check (the build ID kept
// in the binary) skips the link when nothing changed, and the record of
// the last build (state.json, see state.go), the binary before the last
// one (plugin.kept, keepCompiled), the artifact the last build replaced
// (spareName) and the values go build's early start took from
// plugin_config.yml (peekName). Nothing in it is a source:
// deleting it only makes the next build do all its work again. It holds
// a .gitignore that ignores everything in it, so that it stays out of
// version control also in projects that commit .dvp/sdk (the .gitignore of
// dvp init ignores all of /.dvp/).
const WorkDir = ".dvp/build"

// spareName is the file in WorkDir that the artifact a build replaced is
// kept as, for the next build to write its artifact into
// (fsutil.WriteReaderSpare): its blocks and cached pages used again, none
// freed while a build writes.
const spareName = "artifact.spare"

// lockName is the file in WorkDir that dvp builds of one project take an
// exclusive lock on, one after the other (they share the compiled binary).
const lockName = "lock"

// workDir creates (if needed) and returns <root>/.dvp/build, with its
// .gitignore.
func workDir(root string) (string, error) {
	if err := refuseLinks(root); err != nil {
		return "", err
	}
	dir := filepath.Join(root, filepath.FromSlash(WorkDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Lstat(ignore); errors.Is(err, fs.ErrNotExist) {
		if err := fsutil.WriteFile(ignore, []byte("# dvp build's work files (docs/build.md): not sources.\n*\n"), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// refuseLinks refuses a project whose .dvp or .dvp/build is a symbolic
// link: dvp build writes there and replaces what it finds (the SDK copy,
// its state), so a project from elsewhere holding such a link would have
// it delete and write files outside the project.
func refuseLinks(root string) error {
	for _, rel := range []string{".dvp", WorkDir} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, _ := os.Readlink(p)
		return fmt.Errorf("%s is a symbolic link (to %s): dvp build keeps its work files and the SDK copy there and replaces what it finds, so it would change files outside the project; remove the link (dvp build makes the directory)", rel, target)
	}
	return nil
}

// workDirExists reports whether the project at root has a work
// directory: it was built before.
func workDirExists(root string) bool {
	st, err := os.Stat(filepath.Join(root, filepath.FromSlash(WorkDir)))
	return err == nil && st.IsDir()
}

// lockWorkDir takes the build lock of the project's work directory,
// waiting for another dvp build of the same project to end. The lock ends
// with the returned function (or the process).
func lockWorkDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := filelock.Lock(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// keepCompiled links the compiled plugin at out (if any) to out+".kept",
// after removing the one the build before kept, while go build compiles:
// go build's rename of a new binary over out then frees no blocks (on a
// file system that discards freed blocks, freeing the old binary's few
// MiB was a part of go build's last step, and its discard a part of the
// next fsync, the artifact's), and the binary kept before is freed now,
// its discard left to a sync of the work directory made now too.
func keepCompiled(out string) {
	kept := out + ".kept"
	ki, kerr := os.Lstat(kept)
	oi, oerr := os.Lstat(out)
	if kerr == nil && oerr == nil && os.SameFile(ki, oi) {
		return // kept already (the last build did not link)
	}
	if kerr == nil && os.Remove(kept) != nil {
		return
	}
	if oerr == nil {
		_ = os.Link(out, kept)
	}
	if kerr == nil && ki.Mode().IsRegular() {
		fsutil.SyncDir(filepath.Dir(out)) // a binary was freed
	}
}
