//go:build !linux

package fsutil

import "os"

// startWriteBack does nothing where there is no sync_file_range: the
// sync does all the work.
func startWriteBack(*os.File, int64, int64) {}

// holdReplaced does nothing here: the rename frees the replaced file.
func holdReplaced(string) (release func()) { return func() {} }

// openSpare never gives a spare where there are no write leases:
// WriteReaderSpare writes a new temporary file.
func openSpare(string, string) (*os.File, int64) { return nil, 0 }

// keepReplaced keeps no spare here (openSpare would not use it).
func keepReplaced(string, string) bool { return false }
