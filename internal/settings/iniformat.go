package settings

import (
	"fmt"
	"strings"
)

// checkFormat finds the first line of the config file that configparser,
// which reads dvp's config file, refuses: a key before any section, a
// line that is neither a section, a comment nor "key = value" (or
// "key: value"), an unclosed section header, a section or a key given
// twice. It returns "FILE:LINE: what is wrong", or "" when the file is
// well formed. Lines indented deeper than their key continue its value,
// as in configparser.
func checkFormat(path string, b []byte) string {
	section := ""
	sections := map[string]int{}
	var keys map[string]int
	keyIndent := -1 // the indentation of the last key; -1: no key yet
	for i, raw := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		n := i + 1
		at := fmt.Sprintf("%s:%d: ", path, n)
		t := strings.TrimSpace(raw)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		if section != "" && keyIndent >= 0 && indent > keyIndent {
			continue // the value of the key above goes on
		}
		if strings.HasPrefix(t, "[") {
			if !strings.HasSuffix(t, "]") || len(t) < 3 {
				return at + fmt.Sprintf("%s is not a section header: write it as [name], such as [default]", quoteShort(t))
			}
			name := t[1 : len(t)-1]
			if first, dup := sections[name]; dup {
				return at + fmt.Sprintf("the section [%s] is already given on line %d: merge the two", name, first)
			}
			sections[name] = n
			section, keys, keyIndent = name, map[string]int{}, -1
			continue
		}
		key, _, ok := cutDelimiter(t)
		if !ok {
			return at + fmt.Sprintf("%s is not a setting: write it as key = value, such as engine = engine.example.com", quoteShort(t))
		}
		if section == "" {
			return at + fmt.Sprintf("the setting %q comes before any section: put it under [default]", key)
		}
		if first, dup := keys[key]; dup {
			return at + fmt.Sprintf("%q is already set on line %d in [%s]: keep one", key, first, section)
		}
		keys[key] = n
		keyIndent = indent
	}
	return ""
}

// cutDelimiter splits "key = value" or "key: value" at the first '=' or
// ':', as configparser does; the key must not be empty.
func cutDelimiter(line string) (key, value string, ok bool) {
	i := strings.IndexAny(line, "=:")
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimSpace(line[:i])
	return key, strings.TrimSpace(line[i+1:]), key != ""
}

// configFormatHint follows every refusal of the config file.
const configFormatHint = "(fix the file or remove it; its format is INI with a [default] section holding engine, user and password, one \"key = value\" a line)"
