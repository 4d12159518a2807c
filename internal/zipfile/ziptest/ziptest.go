// Package ziptest extracts ZIP archives for tests: dvp itself never
// extracts one (the engine unpacks a plugin's sourceCode with its own
// runner), but the tests of the archives dvp writes and checks extract
// them to look at the files, and the fuzz target of the sourceCode checks
// (internal/artifact) asserts that nothing is written outside the target
// directory.
package ziptest

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/internal/zipfile"
)

// Extract extracts the ZIP at zipPath into dir (which must exist), refusing
// any entry zipfile.ValidateEntryName rejects, any non-regular file and more than
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
		if err := zipfile.ValidateEntryName(f.Name); err != nil {
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
