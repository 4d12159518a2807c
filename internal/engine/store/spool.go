package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// SourceSpoolMemory is how much of a plugin's code a source spool
// (NewSourceSpool) holds in memory before it writes it to a file.
const SourceSpoolMemory = 256 << 10

// Spool is a temporary file in the data directory being written, hashed as
// it goes. A source spool holds small content in memory and makes the
// file only when it grows beyond SourceSpoolMemory or must be stored
// (Finish, Path): an upgrade whose code a committed row already uses —
// most uploads of a plugin under development, and every one of make load —
// then creates and removes no file. (Creating a file costs an inode: on
// ext4 without a journal, finding a free one skips the inodes freed in the
// last seconds one by one, so a spool file created and removed per upload
// was a tenth of the engine's CPU under a stream of uploads;
// docs/performance.md, "CPU per request".)
type Spool struct {
	f      *os.File // nil while the content is in memory, and once given up
	mem    []byte   // the content while in memory
	memMax int      // 0: a file from the start
	dir    string   // where the file is made
	prefix string
	done   bool // adopted, dropped or discarded
	h      hash.Hash
	size   int64
	syncs  *atomic.Int64 // the store's count of fsyncs
	st     *writeStats
}

// NewSpool creates a spool file in the data directory's spool directory.
func (s *Store) NewSpool(prefix string) (*Spool, error) {
	sp := s.spool(prefix, 0)
	if err := sp.file(); err != nil {
		return nil, err
	}
	return sp, nil
}

// NewSourceSpool is a spool for an upload's decoded code: in memory while
// it is at most SourceSpoolMemory bytes, then a file in the spool
// directory.
func (s *Store) NewSourceSpool() *Spool { return s.spool("source", SourceSpoolMemory) }

func (s *Store) spool(prefix string, memMax int) *Spool {
	return &Spool{dir: filepath.Join(s.dir, TmpDir), prefix: prefix, memMax: memMax, h: sha256.New(), syncs: &s.syncs, st: &s.wstats}
}

// file moves the content to a spool file, creating it, unless it is one.
func (sp *Spool) file() error {
	if sp.f != nil {
		return nil
	}
	if sp.done {
		return os.ErrClosed
	}
	f, err := os.CreateTemp(sp.dir, sp.prefix+"-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(sp.mem); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	sp.f, sp.mem, sp.memMax = f, nil, 0
	return nil
}

func (sp *Spool) Write(p []byte) (int, error) {
	if sp.f == nil && len(sp.mem)+len(p) <= sp.memMax {
		sp.mem = append(sp.mem, p...)
		sp.h.Write(p)
		sp.size += int64(len(p))
		return len(p), nil
	}
	if err := sp.file(); err != nil {
		return 0, err
	}
	n, err := sp.f.Write(p)
	sp.h.Write(p[:n])
	sp.size += int64(n)
	return n, err
}

// Sum is the sha256 of what was written, in hex.
func (sp *Spool) Sum() string { return hex.EncodeToString(sp.h.Sum(nil)) }

// Finish writes the content to its file and syncs it to disk (Install
// does, before the row that refers to its blob commits).
func (sp *Spool) Finish() error {
	if err := sp.file(); err != nil {
		return err
	}
	sp.syncs.Add(1)
	defer since(&sp.st.syncNs, time.Now())
	return sp.f.Sync()
}

// ReaderAt reads what was written.
func (sp *Spool) ReaderAt() io.ReaderAt {
	if sp.f == nil {
		return bytes.NewReader(sp.mem)
	}
	return sp.f
}

// Path is the spool file's path; content held in memory is written to a
// file first.
func (sp *Spool) Path() (string, error) {
	if err := sp.file(); err != nil {
		return "", err
	}
	return sp.f.Name(), nil
}

// Size is the number of bytes written.
func (sp *Spool) Size() int64 { return sp.size }

// Close closes the spool file; it stays on disk until Discard.
func (sp *Spool) Close() error {
	if err := sp.file(); err != nil {
		return err
	}
	return sp.f.Close()
}

// drop closes and removes the spool file, whose content is not needed.
func (sp *Spool) drop() {
	if sp.done {
		return
	}
	sp.done, sp.mem = true, nil
	if sp.f != nil {
		sp.f.Close()
		os.Remove(sp.f.Name())
		sp.f = nil
	}
}

// Discard removes the Spool file (a no-op after it was adopted).
func (sp *Spool) Discard() {
	if sp != nil {
		sp.drop()
	}
}

// adopt moves a finished Spool file into the blob store under its sha256
// (atomic rename, then the blob's directory is synced, which makes the
// new name durable; the spool directory is emptied at every start, so
// the name leaving it need not be). An existing identical blob is kept.
// Callers count it pending first (holdBlob), so that no removal takes
// it away before its row commits.
func (s *Store) adopt(sp *Spool) (string, error) {
	sum := sp.Sum()
	dst, err := s.BlobPath(sum)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(dst)
	if _, err := os.Stat(dir); err != nil { // made at Open; removed since
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		s.syncs.Add(1)
		if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
			return "", err
		}
	}
	name := sp.f.Name()
	if err := sp.f.Close(); err != nil {
		return "", err
	}
	sp.f, sp.done = nil, true
	if _, err := os.Stat(dst); err == nil {
		os.Remove(name)
		return sum, nil
	}
	s.syncs.Add(1)
	defer since(&s.wstats.syncNs, time.Now())
	if err := fsutil.Rename(name, dst); err != nil { // syncs dir
		os.Remove(name)
		return "", err
	}
	return sum, nil
}
