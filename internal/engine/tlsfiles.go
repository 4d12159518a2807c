package engine

import (
	"crypto/tls"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// maxPEMFile bounds the certificate and key files of --tls-cert and
// --tls-key: a chain of certificates is a few KiB.
const maxPEMFile = 1 << 20

// loadKeyPair is tls.LoadX509KeyPair reading both files as regular files
// and up to maxPEMFile (fsutil.ReadRegular): a FIFO would keep the engine
// from starting, waiting for a writer, and a device (/dev/zero) be read
// until memory ran out.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := fsutil.ReadRegular(certFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := fsutil.ReadRegular(keyFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}
