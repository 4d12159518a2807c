package store

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecureDataDir makes the data directory dir and what it holds private to
// the engine's user — directories 0700, files 0600 (0700 when executable),
// whatever modes they had — and refuses a directory that another user owns
// or can write: whoever can write it can replace the engine's database,
// key and plugins. The live data of containers and snapshots
// (storage/<ref>/, snapshots/<ref>/) keeps its own modes: only its top
// directory is made private, which is enough to close it to others.
// Symbolic links are never followed.
func SecureDataDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("the data directory %s is not a directory", dir)
	}
	if uid, ok := owner(st); ok && uid != os.Geteuid() {
		return fmt.Errorf("the data directory %s belongs to the user with ID %d, not to the engine's user (ID %d): give a --data-dir of your own", dir, uid, os.Geteuid())
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the data directory %s can be written by other users (mode %04o), who could replace the engine's database, key and plugins: make it private (chmod 700 %s) or give another --data-dir", dir, st.Mode().Perm(), dir)
	}
	live := map[string]bool{StorageDir: true, SnapshotsDir: true}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if err := os.Chmod(p, 0o700); err != nil {
				return err
			}
			if len(parts) == 2 && live[parts[0]] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		if fi.Mode().Perm()&0o100 != 0 {
			mode = 0o700
		}
		if fi.Mode().Perm() != mode {
			return os.Chmod(p, mode)
		}
		return nil
	})
}
