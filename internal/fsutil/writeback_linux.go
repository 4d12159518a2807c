package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteBack starts writing n bytes of f at off to the disk and does
// not wait for it (sync_file_range with SYNC_FILE_RANGE_WRITE: a hint, not
// a sync; f.Sync still makes the data durable). An error changes nothing:
// the sync does the work.
func startWriteBack(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
