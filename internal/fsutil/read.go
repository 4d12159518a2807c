package fsutil

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is the error of ReadRegular for a file over its bound.
type ErrTooLarge struct {
	Path string
	Max  int64
}

func (e *ErrTooLarge) Error() string {
	return fmt.Sprintf("%s is larger than %d MiB, more than such a file ever holds", e.Path, e.Max>>20)
}

// NotRegularError is the error of OpenRegular and ReadRegular for a path
// that is not a regular file: What says what it is ("a FIFO").
type NotRegularError struct {
	Path string
	What string
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, e.What)
}

// Kind says what a file of mode m is, in words: "a regular file", "a
// directory", "a symbolic link", "a FIFO", "a device", "a socket", or "a
// special file". It is the one wording of file kinds in messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// OpenRegular opens the regular file at path for reading (a symbolic link
// to one is followed) without ever waiting in open: a FIFO is opened
// non-blocking, so that its open returns at once instead of waiting for a
// writer, and then refused like a device, a socket or a directory, with a
// *NotRegularError. Every file a user or a project names for dvp to read
// is opened through it (or ReadRegular).
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, What: Kind(st.Mode())}
	}
	return f, st, nil
}

// ReadRegular reads the regular file at path (a symbolic link to one is
// followed), at most max bytes: a project's file is read through it, so
// that one that is, or links to, a device (/dev/zero), a FIFO (whose open
// would wait for a writer) or a huge file cannot make dvp read without
// end. Another kind of file is a *NotRegularError that says what it is;
// one over max bytes an *ErrTooLarge.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, &ErrTooLarge{Path: path, Max: max}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &ErrTooLarge{Path: path, Max: max}
	}
	return data, nil
}
