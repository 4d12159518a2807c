//go:build e2e

package e2e

import (
	"crypto/tls"
	"net"
	"net/url"
	"testing"
)

// TestTLSServesOneRequestPerConnection: the front door bounds what clients
// make the engine hold by connections (--max-connections) and by requests
// without a session (--max-unauthenticated), one request at a time per
// connection. Over TLS the engine also spoke HTTP/2, whose connections
// each carry up to 250 requests at once: 32 connections held 7680 logins,
// each with 60 KiB of headers, waiting their turn (the engine's memory
// went from 21 MB to over 400 MB, growing; 128 connections, gigabytes).
// The engine speaks HTTP/1.1 only, as dvp's client and Delphix's Python
// client do: a client offering h2 gets http/1.1.
func TestTLSServesOneRequestPerConnection(t *testing.T) {
	certFile, keyFile := selfSignedCert(t, t.TempDir())
	e := startEngine(t, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Errorf("a client offering h2 and http/1.1 negotiated %q, want http/1.1", p)
	}
	// HTTP/2 with prior knowledge, without TLS, is not spoken either.
	e2 := startEngine(t, t.TempDir())
	hu, _ := url.Parse(e2.url)
	plain, err := net.Dial("tcp", hu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plain.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	buf := make([]byte, 64)
	n, _ := plain.Read(buf)
	if got := string(buf[:n]); len(got) < 8 || got[:8] != "HTTP/1.1" {
		t.Errorf("HTTP/2 prior knowledge on plain HTTP answered %q, want an HTTP/1.1 refusal", got)
	}
}
