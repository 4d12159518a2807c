package plugintest

import (
	"strings"

	"github.com/dvpkit/dvp/sdk"
)

// The values the input helpers fill in. Tests may compare against them.
const (
	// SourceGUID is the GUID of the sources the helpers make.
	SourceGUID = "plugintest-source-guid"
	// StagedMountPath is the path of the staged mount StagedSource makes
	// when it is given no mount.
	StagedMountPath = "/mnt/delphix/staged"
	// VirtualMountPath is the path of the mount VirtualSource makes when it
	// is given no mount.
	VirtualMountPath = "/mnt/delphix/virtual"
)

// Connection returns a connection to a Unix environment named name (its
// host is name.example.com, its environment user "delphix"). Different names
// give different environment references.
func Connection(name string) sdk.RemoteConnection {
	return connection("UNIX", name)
}

// WindowsConnection returns a connection to a Windows environment named
// name (environment user "delphix").
func WindowsConnection(name string) sdk.RemoteConnection {
	return connection("WINDOWS", name)
}

func connection(kind, name string) sdk.RemoteConnection {
	n := refNumber(name)
	host := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + ".example.com"
	c := sdk.RemoteConnection{
		Environment: sdk.RemoteEnvironment{
			Name:      name,
			Reference: kind + "_HOST_ENVIRONMENT-" + n,
			Host:      sdk.RemoteHost{Name: host, Reference: kind + "_HOST-" + n},
		},
		User: sdk.RemoteUser{Name: "delphix", Reference: "HOST_USER-" + n},
	}
	if kind == "UNIX" {
		c.Environment.Host.BinaryPath = "/opt/delphix/toolkit"
		c.Environment.Host.ScratchPath = "/var/tmp/delphix"
	} else {
		c.Environment.Host.ScratchPath = `C:\Program Files\Delphix\scratch`
	}
	return c
}

// refNumber derives a stable reference number from a name.
func refNumber(name string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	const digits = "0123456789"
	n := h%9000 + 1000
	b := []byte{digits[n/1000], digits[n/100%10], digits[n/10%10], digits[n%10]}
	return string(b)
}

// Mount returns a mount of the storage at path on the connection's
// environment.
func Mount(conn sdk.RemoteConnection, path string) sdk.Mount {
	return sdk.Mount{RemoteEnvironment: conn.Environment, MountPath: path}
}

// StagedSource returns the staged source of a STAGED plugin with the given
// parameters (the generated LinkedSourceDefinition), its source connection
// Connection("source") and its staged connection Connection("staging").
// With no mounts its Mount is the staged mount at StagedMountPath on the
// staging environment; with one mount, Mount is that mount; with several,
// Mounts holds them and Mount is nil (as the engine sends them).
func StagedSource[P any](params P, mounts ...sdk.Mount) sdk.StagedSource[P] {
	s := sdk.StagedSource[P]{
		GUID:             SourceGUID,
		SourceConnection: Connection("source"),
		StagedConnection: Connection("staging"),
		Parameters:       params,
	}
	switch len(mounts) {
	case 0:
		m := Mount(s.StagedConnection, StagedMountPath)
		s.Mount = &m
	case 1:
		m := mounts[0]
		s.Mount = &m
	default:
		s.Mounts = mounts
	}
	return s
}

// DirectSource returns the linked source of a DIRECT plugin with the given
// parameters (the generated LinkedSourceDefinition) and the connection
// Connection("source").
func DirectSource[P any](params P) sdk.DirectSource[P] {
	return sdk.DirectSource[P]{GUID: SourceGUID, Connection: Connection("source"), Parameters: params}
}

// VirtualSource returns a virtual source (a VDB) with the given parameters
// (the generated VirtualSourceDefinition) and the connection
// Connection("target"); with no mounts it has one at VirtualMountPath on
// that environment.
func VirtualSource[P any](params P, mounts ...sdk.Mount) sdk.VirtualSource[P] {
	s := sdk.VirtualSource[P]{GUID: SourceGUID, Connection: Connection("target"), Parameters: params, Mounts: mounts}
	if len(mounts) == 0 {
		s.Mounts = []sdk.Mount{Mount(s.Connection, VirtualMountPath)}
	}
	return s
}
