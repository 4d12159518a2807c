package settings

import (
	"io"
	"os"
	"strings"
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
	found, section := 0, ""
	for i, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';' || len(line) > len(strings.TrimLeft(line, " \t")):
			// a comment, or an indented line continuing a value
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			section = strings.TrimSpace(t[1 : len(t)-1])
		case section == "default":
			if k, _, ok := cutDelimiter(t); ok && k == key {
				found = i + 1
			}
		}
	}
	return found
}
