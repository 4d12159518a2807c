package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// maxPEMFile bounds the certificate and key files of --tls-cert and
// --tls-key: a chain of certificates is a few KiB.
const maxPEMFile = 1 << 20

// tlsCertificate reads --tls-cert and --tls-key before anything starts
// (Run): a missing, unreadable or mismatched file is a FlagError naming
// the flag and the file, so that dvp engine serve exits 2 without having
// opened the data directory, generated a password or listened. No TLS
// flag: nil.
func (o RunOptions) tlsCertificate() (*tls.Certificate, error) {
	switch {
	case o.TLSCert == "" && o.TLSKey == "":
		return nil, nil
	case o.TLSCert == "":
		return nil, flagErrorf("Invalid value for '--tls-cert': --tls-key is given without it; give both --tls-cert CERT.pem and --tls-key KEY.pem (or neither, for plain HTTP on loopback).")
	case o.TLSKey == "":
		return nil, flagErrorf("Invalid value for '--tls-key': --tls-cert is given without it; give both --tls-cert CERT.pem and --tls-key KEY.pem (or neither, for plain HTTP on loopback).")
	}
	cert, err := readPEMFlag("--tls-cert", o.TLSCert, "a PEM certificate file")
	if err != nil {
		return nil, err
	}
	key, err := readPEMFlag("--tls-key", o.TLSKey, "the PEM private key file of the certificate")
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, flagErrorf("Invalid value for '--tls-cert' or '--tls-key': the certificate %s and the key %s are not a TLS key pair (%v); give a PEM certificate and the PEM private key it was made with.", o.TLSCert, o.TLSKey, err)
	}
	return &pair, nil
}

// readPEMFlag reads the file of a TLS flag as a regular file of at most
// maxPEMFile bytes (fsutil.ReadRegular): a FIFO would keep the engine from
// starting, waiting for a writer, and a device (/dev/zero) be read until
// memory ran out.
func readPEMFlag(flag, path, want string) ([]byte, error) {
	b, err := fsutil.ReadRegular(path, maxPEMFile)
	if err == nil {
		return b, nil
	}
	var why string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = fmt.Sprintf("the file %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		why = fmt.Sprintf("the file %s cannot be read by this user (permission denied); run chmod 600 %s as its owner, or start the engine as the user who owns it", path, path)
	default:
		why = fmt.Sprintf("cannot read %s: %v", path, err)
	}
	return nil, flagErrorf("Invalid value for '%s': %s; give %s %s.", flag, why, flag, want)
}
