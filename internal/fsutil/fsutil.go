// Package fsutil holds dvp's one implementation of durable, atomic file
// system updates: a file is written to a temporary file in its directory,
// synced, renamed over the target and the directory synced, so a reader
// (or a crash) sees the old content or the new, never a part; a directory
// is replaced by renaming a complete new one into place.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically and durably, with permissions
// perm (not filtered by the umask): see WriteReader.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteReader(path, bytes.NewReader(data), perm)
}

// WriteReader copies r to path atomically and durably: through a synced
// temporary file in the same directory that is renamed over path, then the
// directory is synced. On failure path is unchanged and the temporary file
// is removed.
func WriteReader(path string, r io.Reader, perm os.FileMode) error {
	return WriteReaderCommit(path, r, perm, nil)
}

// WriteReaderCommit is WriteReader with a last word: commit, when not nil,
// is called once the temporary file holds every byte of r and is synced,
// before it is renamed over path; an error from commit abandons the write
// (path unchanged, the temporary file removed) and is returned. A caller
// that decides late whether to keep what it wrote so has the sync behind
// it when it decides.
func WriteReaderCommit(path string, r io.Reader, perm os.FileMode, commit func() error) error {
	tmp, err := writeTemp(path, r, perm)
	if err != nil {
		return err
	}
	if commit != nil {
		if err := commit(); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	release := holdReplaced(path)
	if err := os.Rename(tmp, path); err != nil {
		release()
		os.Remove(tmp)
		return err
	}
	go release() // frees the replaced file's blocks while the directory is synced
	return SyncDir(filepath.Dir(path))
}

// WriteReaderSpare is WriteReaderCommit that writes into spare, a file the
// write before this one kept, instead of into a new temporary file, and
// keeps the file it replaces as the next spare (a hard link named spare,
// made before the rename). Its blocks and cached pages are so used again:
// a new file's pages are fresh memory and its blocks new allocations, and
// the replaced file's blocks were freed in the write (on a file system
// that discards freed blocks, as the development machine's, the sync of
// the directory then waited for the discard). The spare is written only
// when it is safe to: a regular file of this user, with no other name and
// on path's file system, that nothing else has open or mapped (a write
// lease is granted, and held while it is written: a reader of the
// artifact before the last, still uploading it, keeps its bytes);
// otherwise, and where there are no leases, this is WriteReaderCommit and
// no spare is kept. spare is in a directory of the caller's (dvp build's
// work directory), on path's file system for the spare to be used.
func WriteReaderSpare(path, spare string, r io.Reader, perm os.FileMode, commit func() error) error {
	next := spare + ".next"
	if sameEntry(path, spare) || sameEntry(path, next) {
		// The spare's own name given as the file to write (-a
		// .dvp/build/artifact.spare): written as any other file.
		return WriteReaderCommit(path, r, perm, commit)
	}
	os.Remove(next) // left by a write stopped between its link and its rename
	tmp := spare
	if f, size := openSpare(spare, filepath.Dir(path)); f != nil {
		if err := writeFile(f, r, perm, size); err != nil {
			os.Remove(spare)
			return err
		}
	} else {
		var err error
		if tmp, err = writeTemp(path, r, perm); err != nil {
			return err
		}
	}
	if commit != nil {
		if err := commit(); err != nil {
			if tmp != spare {
				os.Remove(tmp)
			} // else it stays the spare
			return err
		}
	}
	kept := keepReplaced(path, next)
	release := func() {}
	if !kept {
		release = holdReplaced(path)
	}
	if err := os.Rename(tmp, path); err != nil {
		release()
		if kept {
			os.Remove(next)
		}
		os.Remove(tmp)
		return err
	}
	if kept && os.Rename(next, spare) != nil {
		os.Remove(next)
	}
	go release() // frees the replaced file's blocks while the directory is synced
	return SyncDir(filepath.Dir(path))
}

// sameEntry reports whether a and b name the same entry of the same
// directory.
func sameEntry(a, b string) bool {
	if filepath.Base(a) != filepath.Base(b) {
		return false
	}
	ai, aerr := os.Stat(filepath.Dir(a))
	bi, berr := os.Stat(filepath.Dir(b))
	return aerr == nil && berr == nil && os.SameFile(ai, bi)
}

// WriteNewFile writes data to path atomically and durably, but only when
// path does not exist yet: the complete temporary file is hard-linked to
// path, so of two writers racing for the same path exactly one wins and the
// other gets an error satisfying errors.Is(err, fs.ErrExist).
func WriteNewFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, bytes.NewReader(data), perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp copies r to a new synced temporary file beside path with
// permissions perm and returns its name.
func writeTemp(path string, r io.Reader, perm os.FileMode) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	if err := writeFile(f, r, perm, 0); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeFile copies r to f from its start, with permissions perm, cuts
// what an older content of size bytes left beyond it, syncs and closes f
// (also on an error).
func writeFile(f *os.File, r io.Reader, perm os.FileMode, size int64) (err error) {
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	var n int64
	if wt, ok := r.(io.WriterTo); ok {
		// The disk is handed the data as it comes (writeBack), so that
		// the sync below has little left to wait for. A reader that is
		// not a WriterTo is copied with the file's ReadFrom instead
		// (copy_file_range, splice).
		n, err = wt.WriteTo(&writeBack{f: f})
	} else {
		n, err = io.Copy(f, r)
	}
	if err != nil {
		return err
	}
	if n < size {
		if err = f.Truncate(n); err != nil {
			return err
		}
	}
	return f.Sync()
}

// Rename renames src to dst (both in the same file system) and syncs dst's
// directory, so the rename survives a crash.
func Rename(src, dst string) error {
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(dst))
}

// SyncDir fsyncs a directory so that the creation, rename or removal of an
// entry in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReplaceDir puts the complete directory src in the place of dst (both in
// the same file system), so that a reader sees the old dst or the new one,
// never a mix: dst, when it exists, is renamed aside to a hidden sibling
// (".<name>.old", removed first when an interrupted earlier run left it),
// src is renamed to dst, the parent directory synced and the old copy
// removed (a copy that cannot be removed is left for the next run). When
// the second rename fails the old copy is put back and dst is unchanged.
func ReplaceDir(dst, src string) error {
	return replaceDir(os.Rename, dst, src)
}

// RestoreDir undoes what a crash in the middle of ReplaceDir(dst, ...)
// left: when dst is missing and its previous copy is still aside (renamed
// there, the new one not yet in place), the previous copy is put back. A
// caller that builds the new directory from scratch calls it first, so
// that a build that fails leaves dst as it was before the crash.
func RestoreDir(dst string) error {
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	old := oldDir(dst)
	if _, err := os.Lstat(old); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return Rename(old, dst)
}

// oldDir is where ReplaceDir puts dst's previous copy aside.
func oldDir(dst string) string {
	return filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".old")
}

// replaceDir is ReplaceDir with its renames done by rename (os.Rename;
// the package's tests give one that fails).
func replaceDir(rename func(oldpath, newpath string) error, dst, src string) error {
	old := ""
	if _, err := os.Lstat(dst); err == nil {
		old = oldDir(dst)
		os.RemoveAll(old)
		if err := rename(dst, old); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := rename(src, dst); err != nil {
		if old != "" {
			if rerr := rename(old, dst); rerr != nil {
				return fmt.Errorf("%w (and putting the previous %s back failed: %v; it is in %s)", err, dst, rerr, old)
			}
		}
		return err
	}
	if err := SyncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}
