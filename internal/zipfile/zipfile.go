// Package zipfile writes, checks and extracts ZIP archives the way dvp
// needs them: deterministic archives (Write, WritePacked: entries sorted by
// name, no directory entries, a fixed time, Unix permission bits only) and
// safe entry names (ValidateEntryName), and dvp's one bounded extraction
// (ExtractFile: the engine's plugin executables; Extract: a whole archive,
// for tests). The checks of an artifact's sourceCode archive are in
// internal/artifact.
package zipfile

import (
	"fmt"
	"io"
	"io/fs"
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
