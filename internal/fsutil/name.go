package fsutil

import (
	"path/filepath"
	"strings"
)

// SafeFileName turns a plugin name (free text) into a file name component:
// ASCII letters, digits, '.', '_' and '-' are kept, anything else becomes
// '_', a leading dot becomes '_', and the result is at most 100 bytes. An
// empty result is replaced by fallback.
func SafeFileName(name, fallback string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	s := b.String()
	if strings.HasPrefix(s, ".") {
		s = "_" + s[1:]
	}
	if strings.Trim(s, "_") == "" {
		return fallback
	}
	return s
}

// Within tells whether path p is dir or inside it (both absolute, or both
// relative to the same directory; neither needs to exist). It compares the
// paths as given: resolve symbolic links first where they matter.
func Within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
