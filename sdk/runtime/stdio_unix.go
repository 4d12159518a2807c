//go:build unix

package runtime

import (
	"os"
	"syscall"
)

// protocolStreams moves the protocol off the standard descriptors: it keeps
// private duplicates of stdin and stdout for the protocol, then points
// descriptor 1 at stderr and descriptor 0 at /dev/null. Whatever plugin code
// prints (fmt.Println, os.Stdout.Write, a child process inheriting stdout)
// lands in stderr, and nothing it reads can consume protocol bytes.
func protocolStreams() (in, out *os.File, err error) {
	outFd, err := syscall.Dup(1)
	if err != nil {
		return nil, nil, err
	}
	inFd, err := syscall.Dup(0)
	if err != nil {
		syscall.Close(outFd)
		return nil, nil, err
	}
	syscall.CloseOnExec(outFd)
	syscall.CloseOnExec(inFd)
	if err := dup2(2, 1); err != nil {
		return nil, nil, err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer null.Close()
	if err := dup2(int(null.Fd()), 0); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(inFd), "protocol-in"), os.NewFile(uintptr(outFd), "protocol-out"), nil
}
