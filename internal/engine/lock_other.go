//go:build !unix

package engine

import "os"

// lockFileExclusive does nothing where flock is missing: there, do not run
// two engines on one data directory.
func lockFileExclusive(*os.File) error { return nil }
