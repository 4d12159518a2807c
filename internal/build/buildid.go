package build

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
)

// readBuildID returns the Go build ID of the executable at path ("" and no
// error when it has none, e.g. when it was linked with -ldflags=-buildid=).
// ELF binaries keep it in the .note.go.buildid note; the others at the
// start of their text, after a marker. It reads only headers (and the first
// 64 KiB of a file that is not ELF).
func readBuildID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var magic [len(elf.ELFMAG)]byte
	if _, err := f.ReadAt(magic[:], 0); err == nil && string(magic[:]) == elf.ELFMAG {
		ef, err := elf.NewFile(f)
		if err != nil {
			return "", err
		}
		s := ef.Section(".note.go.buildid")
		if s == nil {
			return "", nil
		}
		note, err := s.Data()
		if err != nil {
			return "", err
		}
		// namesz, descsz, type, "Go\x00\x00", the ID.
		if len(note) < 16 || string(note[12:16]) != "Go\x00\x00" {
			return "", nil
		}
		size := ef.ByteOrder.Uint32(note[4:8])
		if int(size) > len(note)-16 {
			return "", nil
		}
		return string(note[16 : 16+size]), nil
	}
	// Not ELF: the first 64 KiB (read only here: fresh memory for them
	// costs more than the ELF note).
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", err
	}
	head = head[:n]
	const prefix, suffix = "\xff Go build ID: \"", "\"\n \xff"
	i := bytes.Index(head, []byte(prefix))
	if i < 0 {
		return "", nil
	}
	rest := head[i+len(prefix):]
	j := bytes.Index(rest, []byte(suffix))
	if j < 0 {
		return "", nil
	}
	return string(rest[:j]), nil
}
