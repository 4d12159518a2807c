package build

import (
	"io/fs"
	"os"
	"syscall"
)

// statStamp is the stamp of the file at path; nil when it cannot be read.
func statStamp(path string) *fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	return infoStamp(fi)
}

// infoStamp is the stamp of what fi describes; nil when it has none.
func infoStamp(fi fs.FileInfo) *fileStamp {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &fileStamp{Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size, MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano()}
}
