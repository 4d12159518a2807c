package dvptest

import "unicode/utf8"

// firstInvalidUTF8 finds the first byte of data that is not UTF-8: its
// line and column (1-based, the column counting characters) and the byte;
// ok is false when data is UTF-8 throughout.
func firstInvalidUTF8(data []byte) (line, col int, b byte, ok bool) {
	line, col = 1, 1
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return line, col, data[off], true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		off += size
	}
	return 0, 0, 0, false
}
