package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// openSpare opens spare for WriteReaderSpare to write into, when it is
// safe to: a regular file (not followed when it is a symbolic link), of
// this user, with one name, on dir's file system, and a write lease is
// granted on it (no other open descriptor or mapping of it anywhere: the
// lease holds that while the file is written, and ends when it is closed).
// It returns the file and its size, or nil.
func openSpare(spare, dir string) (*os.File, int64) {
	fd, err := unix.Open(spare, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0
	}
	var st, dst unix.Stat_t
	ok := unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink == 1 &&
		int(st.Uid) == os.Geteuid() && unix.Stat(dir, &dst) == nil && dst.Dev == st.Dev
	if ok {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_WRLCK)
		ok = err == nil && unix.SetNonblock(fd, false) == nil
	}
	if !ok {
		unix.Close(fd)
		return nil, 0
	}
	return os.NewFile(uintptr(fd), spare), st.Size
}

// keepReplaced links the regular file at path (if any) to next, so that a
// rename over path does not free it: WriteReaderSpare keeps it as the
// next spare.
func keepReplaced(path, next string) bool {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false
	}
	return os.Link(path, next) == nil
}

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
