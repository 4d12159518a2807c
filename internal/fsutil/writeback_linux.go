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

// holdReplaced keeps the file at path (if any: not followed when it is a
// symbolic link) referenced until release is called, so that a rename
// over it does not free its blocks: they are freed when release drops the
// last reference, which WriteReaderCommit does on another goroutine after
// the rename. Freeing a file of some MiB (on a file system that discards
// freed blocks, as the development machine's) took longer than the rename
// itself, and a build's rename waits on it. An O_PATH descriptor reads
// nothing and opens anything, a FIFO too, without blocking.
func holdReplaced(path string) (release func()) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return func() {}
	}
	return func() { unix.Close(fd) }
}
