//go:build unix

package exec

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
	"golang.org/x/crypto/ssh"
)

// The SSH key and known hosts files an environment names are read
// bounded: a FIFO (whose open would wait for a writer forever), a device or
// a huge file is refused, saying what it is, before any connection.
func TestSSHFilesBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, maxKnownHostsFile+1); err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	// 127.0.0.1:1: were the files accepted, the dial would be refused.
	env := func(key, known string) engineapi.Environment {
		return engineapi.Environment{Name: "e", Host: "127.0.0.1", Port: 1, User: "u", SSHKeyFile: key, KnownHostsFile: known}
	}
	for _, c := range []struct {
		name string
		env  engineapi.Environment
		want string
	}{
		{"key a FIFO", env(fifo, ""), "a FIFO, not a regular file"},
		{"key a device", env("/dev/zero", ""), "a device, not a regular file"},
		{"key huge", env(huge, ""), "is larger than 1 MiB"},
		{"known hosts a FIFO", env(key, fifo), "is not a regular file"},
		{"known hosts huge", env(key, huge), "is larger than 64 MiB"},
	} {
		_, err := dialSSH(context.Background(), c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	if _, err := dialSSH(context.Background(), env(key, filepath.Join(dir, "known_hosts-absent"))); err == nil || strings.Contains(err.Error(), "regular") {
		t.Errorf("an absent known hosts file: %v", err)
	}
}
