package fsutil

import "strings"

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
