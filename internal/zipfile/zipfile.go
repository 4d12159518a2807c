// Package zipfile writes, checks and extracts ZIP archives the way dvp
// needs them: deterministic archives (Write, WritePacked: entries sorted by
// name, no directory entries, a fixed time, Unix permission bits only), safe
// entry names (ValidateEntryName), and bounded extraction (Extract). The
// checks of an artifact's sourceCode archive are in internal/artifact.
package zipfile

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Epoch is the modification time of every entry of a deterministic ZIP.
var Epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one file to put into a deterministic ZIP.
type File struct {
	Name string      // slash-separated relative path
	Mode fs.FileMode // permission bits; 0 means 0644
	Data []byte      // the content, or
	Path string      // a file to copy the content from
}

// Write writes a deterministic ZIP of files: entries sorted by name, no
// directory entries, fixed timestamps, deflate, Unix permission bits only.
// The same files always give the same bytes (for a given Go version).
func Write(w io.Writer, files []File) error { return WritePacked(w, files, nil) }

// ValidateEntryName checks that a ZIP entry name is a clean relative path
// that cannot escape the directory it is extracted into: not empty, no
// leading slash or drive letter, no backslash, no "." or ".." segment, no
// empty segment, no control character, valid UTF-8. A trailing slash (a
// directory entry) is allowed.
func ValidateEntryName(name string) error {
	n := strings.TrimSuffix(name, "/")
	switch {
	case n == "":
		return fmt.Errorf("entry name %q is empty", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("entry name %q is not valid UTF-8", name)
	case strings.HasPrefix(n, "/"):
		return fmt.Errorf("entry name %q is an absolute path", name)
	case strings.ContainsRune(n, '\\'):
		return fmt.Errorf("entry name %q contains a backslash", name)
	case len(n) >= 2 && n[1] == ':':
		return fmt.Errorf("entry name %q starts with a drive letter", name)
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("entry name %q contains a control character", name)
		}
	}
	for _, seg := range strings.Split(n, "/") {
		switch seg {
		case "..":
			return fmt.Errorf("entry name %q goes up a directory (..)", name)
		case ".", "":
			return fmt.Errorf("entry name %q is not a clean path", name)
		}
	}
	return nil
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
	var total int64
	for _, f := range zr.File {
		if err := ValidateEntryName(f.Name); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(f.Name, "/")))
		if rel, err := filepath.Rel(dir, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
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
		n, err := io.Copy(out, io.LimitReader(rc, maxBytes-total+1))
		rc.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		total += n
		if total > maxBytes {
			return fmt.Errorf("the archive expands to more than %d bytes", maxBytes)
		}
	}
	return nil
}
