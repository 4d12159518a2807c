//go:build !linux

package build

import "io/fs"

// statStamp gives no stamp here: the artifact is hashed on every build.
func statStamp(string) *fileStamp { return nil }

// infoStamp gives no stamp here: the SDK copy is compared on every build.
func infoStamp(fs.FileInfo) *fileStamp { return nil }
