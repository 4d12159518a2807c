//go:build !linux

package safefs

import (
	"errors"
	"io/fs"
)

// Dir is an open directory that OpenDir checked.
type Dir struct{ path string }

// Entry describes one entry of a Dir.
type Entry struct {
	Mode     uint32
	UID, GID int
	Dev, Ino uint64
}

// IsLink tells whether the entry is a symbolic link.
func (e Entry) IsLink() bool { return fs.FileMode(e.Mode)&fs.ModeSymlink != 0 }

// IsDir tells whether the entry is a directory.
func (e Entry) IsDir() bool { return false }

// Kind names what the entry is.
func (e Entry) Kind() string { return "an entry" }

var errUnsupported = errors.New("the engine checks mount paths with Linux system calls (openat without following links); this system has none, so local mounts are not supported here")

// OpenDir is not supported on this system.
func OpenDir(string, Trust, *Create) (*Dir, error) { return nil, errUnsupported }

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// Close does nothing.
func (d *Dir) Close() error { return nil }

// Lstat is not supported.
func (d *Dir) Lstat(string) (Entry, error) { return Entry{}, errUnsupported }

// Readlink is not supported.
func (d *Dir) Readlink(string) (string, error) { return "", errUnsupported }

// Symlink is not supported.
func (d *Dir) Symlink(string, string) error { return errUnsupported }

// Lchown is not supported.
func (d *Dir) Lchown(string, int, int) error { return errUnsupported }

// Unlink is not supported.
func (d *Dir) Unlink(string) error { return errUnsupported }
