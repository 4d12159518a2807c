//go:build !unix

package runtime

import "os"

// protocolStreams keeps the standard streams for the protocol and points the
// os.Stdout and os.Stdin variables away from them (descriptor-level
// redirection is only done on Unix, where plugins run).
func protocolStreams() (in, out *os.File, err error) {
	in, out = os.Stdin, os.Stdout
	os.Stdout = os.Stderr
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stdin = null
	}
	return in, out, nil
}
