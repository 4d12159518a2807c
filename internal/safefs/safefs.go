// Package safefs opens directories and makes, reads and removes entries in
// them without following symbolic links and without trusting a directory
// that another user could change under the engine: the file-system half of
// the local engine's mount safety (docs/engine.md, "Mounts").
//
// OpenDir walks a path from "/" one component at a time with openat and
// O_NOFOLLOW, so that no component can be a link and a rename of a
// component after the check changes nothing (the walk holds a descriptor
// of the directory it checked). Every directory on the way must be owned
// by root or a trusted user; one that others can write is accepted on the
// way only when its sticky bit is set (others cannot rename or remove what
// root or a trusted user owns there, as with /tmp), and never as the last
// directory. The entry functions act relative to the opened descriptor:
// Symlink never replaces what exists, Unlink removes the entry itself.
package safefs

import (
	"fmt"
	"os/user"
	"strconv"
)

// Trust says which users, besides root, may own the directories of a
// path.
type Trust struct {
	Owners []int
}

func (t Trust) trusts(uid int) bool {
	if uid == 0 {
		return true
	}
	for _, o := range t.Owners {
		if o == uid {
			return true
		}
	}
	return false
}

// Create says how OpenDir makes the missing directories of a path: with
// Mode, then owned by UID and GID (-1 keeps the creator's).
type Create struct {
	Mode     uint32
	UID, GID int
}

// UnsafeError is OpenDir's refusal of a path: Dir is the directory that
// cannot be trusted and Reason says why.
type UnsafeError struct {
	Dir    string
	Reason string
}

func (e *UnsafeError) Error() string { return e.Dir + " " + e.Reason }

// userName names a user ID for messages.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("%s (ID %d)", u.Username, uid)
	}
	return fmt.Sprintf("with ID %d", uid)
}
