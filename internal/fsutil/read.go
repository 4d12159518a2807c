package fsutil

import (
	"fmt"
	"io"
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

// ReadRegular reads the regular file at path (a symbolic link to one is
// followed), at most max bytes: a project's file is read through it, so
// that one that is, or links to, a device (/dev/zero), a FIFO (whose open
// would wait for a writer) or a huge file cannot make dvp read without
// end. Another kind of file is an error that says what it is; one over max
// bytes an *ErrTooLarge.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		what := "not a regular file"
		switch {
		case st.IsDir():
			what = "a directory"
		case st.Mode()&os.ModeNamedPipe != 0:
			what = "a FIFO"
		case st.Mode()&os.ModeDevice != 0:
			what = "a device"
		case st.Mode()&os.ModeSocket != 0:
			what = "a socket"
		}
		return nil, fmt.Errorf("%s is %s, not a regular file", path, what)
	}
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
