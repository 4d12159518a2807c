//go:build !unix

package build

import "os"

// lockFile does nothing where flock is missing: there, do not run two
// builds of one project at once.
func lockFile(*os.File) error { return nil }
