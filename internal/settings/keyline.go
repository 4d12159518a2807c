package settings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// KeyLine returns the line of the config file that sets key in its
// [default] section (the last one, which is the one read), 0 when the file
// does not set it: messages about a value from the file name its line.
func (s *Settings) KeyLine(key string) int {
	if s.path == "" {
		return 0
	}
	f, err := os.Open(s.path)
	if err != nil {
		return 0
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes))
	if err != nil {
		return 0
	}
	return keyLine(b, "default", key)
}

// keyLine returns the line of the config file b that sets key in section
// (the last such line), 0 when none does.
func keyLine(b []byte, section, key string) int {
	found, cur := 0, ""
	for i, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';' || len(line) > len(strings.TrimLeft(line, " \t")):
			// a comment, or an indented line continuing a value
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			cur = strings.TrimSpace(t[1 : len(t)-1])
		case cur == section:
			if k, _, ok := cutDelimiter(t); ok && k == key {
				found = i + 1
			}
		}
	}
	return found
}

// checkReadable refuses a config file that is not a regular file (a
// directory, a device such as /dev/zero, a FIFO: reading it would fail,
// never end, or block) or that is larger than maxConfigBytes, before
// anything reads it whole. A missing file is no error: there is none.
func checkReadable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot read the dvp config file %s: %v\n%s", path, err, configFormatHint)
	case fi.IsDir():
		return fmt.Errorf("cannot read the dvp config file %s: it is a directory\n%s", path, configFormatHint)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("cannot read the dvp config file %s: it is %s, not a regular file\n%s", path, fsutil.Kind(fi.Mode()), configFormatHint)
	case fi.Size() > maxConfigBytes:
		return fmt.Errorf("cannot read the dvp config file %s: it is %d bytes, more than the %d a config file may have\n%s", path, fi.Size(), maxConfigBytes, configFormatHint)
	}
	return nil
}

// quoteShort quotes a line of the config file for a message, cut to its
// first 80 characters: a line of a megabyte is named by its start.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 80 {
		return fmt.Sprintf("%q...", string(r[:80]))
	}
	return fmt.Sprintf("%q", s)
}
