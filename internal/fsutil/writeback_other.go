//go:build !linux

package fsutil

import "os"

// startWriteBack does nothing where there is no sync_file_range: the
// sync does all the work.
func startWriteBack(*os.File, int64, int64) {}

// holdReplaced does nothing here: the rename frees the replaced file.
func holdReplaced(string) (release func()) { return func() {} }
