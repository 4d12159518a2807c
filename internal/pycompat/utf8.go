package pycompat

import "unicode/utf8"

// InvalidUTF8 finds the first byte sequence Python's strict UTF-8 decoder
// refuses and returns its offset and Python's reason ("invalid start byte",
// "invalid continuation byte" or "unexpected end of data"); ok is false
// for valid UTF-8.
func InvalidUTF8(data []byte) (off int, reason string, ok bool) {
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r != utf8.RuneError || size > 1 {
			off += size
			continue
		}
		b := data[off]
		need := 0
		switch {
		case b >= 0xC2 && b <= 0xDF:
			need = 1
		case b >= 0xE0 && b <= 0xEF:
			need = 2
		case b >= 0xF0 && b <= 0xF4:
			need = 3
		default:
			return off, "invalid start byte", true
		}
		if off+need >= len(data) {
			// Truncated, unless an earlier byte is already wrong.
			for i := 1; off+i < len(data); i++ {
				if data[off+i]&0xC0 != 0x80 {
					return off, "invalid continuation byte", true
				}
			}
			return off, "unexpected end of data", true
		}
		return off, "invalid continuation byte", true
	}
	return 0, "", false
}
