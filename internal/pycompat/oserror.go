package pycompat

import (
	"errors"
	"io/fs"
	"strconv"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// OSErrorText words a file-system error as dvp does: "Error code: 2. Error
// message: No such file or directory" (errno and strerror), or the error
// text when there is no errno.
func OSErrorText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) && errno != 0 {
		msg := errno.Error()
		if r, size := utf8.DecodeRuneInString(msg); size > 0 {
			msg = string(unicode.ToUpper(r)) + msg[size:]
		}
		return "Error code: " + strconv.Itoa(int(errno)) + ". Error message: " + msg
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
