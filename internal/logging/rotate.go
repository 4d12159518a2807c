package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// RotatingFile is an io.Writer that rolls path over to path.1 .. path.N when
// it would grow past MaxBytes, the same scheme as Python's
// RotatingFileHandler that dvp users know (debug.log, debug.log.1, ...).
type RotatingFile struct {
	Path     string
	MaxBytes int64
	Backups  int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens (creating directories as needed) the log file for appending.
func OpenRotating(path string, maxBytes int64, backups int) (*RotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	r := &RotatingFile{Path: path, MaxBytes: maxBytes, Backups: backups}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past MaxBytes.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.MaxBytes > 0 && r.size > 0 && r.size+int64(len(p)) > r.MaxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return err
	}
	r.f = nil
	for i := r.Backups - 1; i >= 1; i-- {
		src := fmt.Sprintf("%s.%d", r.Path, i)
		if _, err := os.Stat(src); err == nil {
			if err := os.Rename(src, fmt.Sprintf("%s.%d", r.Path, i+1)); err != nil {
				return err
			}
		}
	}
	if r.Backups > 0 {
		if err := os.Rename(r.Path, r.Path+".1"); err != nil {
			return err
		}
	} else if err := os.Truncate(r.Path, 0); err != nil {
		return err
	}
	return r.open()
}

// Close closes the current file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
