package engine

import (
	"github.com/dvpkit/dvp/internal/engine/guard"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
)

// What dvp engine serve (internal/cli) needs of the engine besides New and
// Serve: the defaults and checks of its flags, and the sandbox it asks for.
// They are the engine's packages' own, named here so that the command line
// reaches the engine through this one package (docs/architecture.md,
// "Layers").

// Defaults of FrontDoor and Config that the engine's packages own.
const (
	DefaultBodyTimeout        = guard.DefaultBodyTimeout
	DefaultUploadIdleTimeout  = guard.DefaultUploadIdleTimeout
	DefaultMaxConns           = guard.DefaultMaxConns
	DefaultMaxUnauthenticated = guard.DefaultMaxUnauthenticated
	DefaultJobHeartbeat       = jobs.DefaultHeartbeat
	// DefaultLibraryMemory is Config.LibraryMemory's default
	// (--max-library-memory).
	DefaultLibraryMemory = pluginhost.DefaultLibraryMemory
)

// Limits bound each process of a plugin operation and each command on a
// local environment (Config.Limits).
type Limits = sandbox.Limits

// DefaultLimits are the limits of dvp engine serve when no flag changes
// them.
func DefaultLimits() Limits { return sandbox.DefaultLimits() }

// ValidHostname checks a name for FrontDoor.Hostnames (--hostname): an
// error says what is wrong with it.
func ValidHostname(name string) error { return guard.ValidHostname(name) }

// OpenSandbox opens the sandbox for Config.Sandbox, or says why this
// kernel cannot sandbox plugins (docs/engine.md, "Sandbox").
func OpenSandbox() (*sandbox.Sandbox, error) { return sandbox.New() }
