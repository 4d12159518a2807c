// Package filelock is dvp's one wrapper of flock(2): an exclusive lock on
// an open file, held until the file is closed or the process ends (a
// crash releases it). The engine locks its data directory with it (one
// engine per directory) and dvp build the project's work directory (one
// build at a time).
//
// Where flock is missing (not Unix) the functions do nothing: there, do
// not run two engines on one data directory or two builds of one project
// at once.
package filelock

import (
	"errors"
	"os"
)

// ErrLocked is TryLock's error when another open file holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock waits for an exclusive lock on f.
func Lock(f *os.File) error { return lock(f, true) }

// TryLock takes an exclusive lock on f without waiting: ErrLocked when
// another open file (of this process or another) holds it.
func TryLock(f *os.File) error { return lock(f, false) }
