package zipfile

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// ExtractFile writes the entry name of the ZIP at zipPath to path
// (atomically, with permissions perm), refusing an entry that is not a
// regular file or that expands to more than maxBytes. The engine extracts
// a plugin's executable from its sourceCode this way.
func ExtractFile(zipPath, name, path string, maxBytes int64, perm os.FileMode) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	var entry *zip.File
	for _, f := range zr.File {
		if f.Name == name {
			entry = f
		}
	}
	if entry == nil {
		return fmt.Errorf("the archive has no %q entry", name)
	}
	if !entry.Mode().IsRegular() {
		return fmt.Errorf("entry %q is not a regular file", name)
	}
	rc, err := entry.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return fsutil.WriteReader(path, &boundedReader{r: rc, left: maxBytes, max: maxBytes}, perm)
}

// Extract extracts the ZIP at zipPath into dir (which must exist), refusing
// any entry ValidateEntryName rejects, any non-regular file and more than
// maxBytes in total. An entry with an executable permission bit, or named
// in executables, is made executable.
func Extract(zipPath, dir string, maxBytes int64, executables ...string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	left := &boundedReader{left: maxBytes, max: maxBytes}
	for _, f := range zr.File {
		if err := ValidateEntryName(f.Name); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(f.Name, "/")))
		if !fsutil.Within(dir, target) {
			return fmt.Errorf("entry %q escapes the directory", f.Name)
		}
		if f.Mode().IsDir() || strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if !f.Mode().IsRegular() {
			return fmt.Errorf("entry %q is not a regular file", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if slices.Contains(executables, f.Name) || f.Mode().Perm()&0o111 != 0 {
			perm = 0o755
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			rc.Close()
			return err
		}
		left.r = rc
		_, err = io.Copy(out, left)
		rc.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// boundedReader reads r until left of max bytes are spent; a byte more
// is an error (the sizes an archive states are not trusted).
type boundedReader struct {
	r         io.Reader
	left, max int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		return 0, fmt.Errorf("the archive expands to more than %d bytes", b.max)
	}
	b.left -= int64(n)
	return n, err
}
