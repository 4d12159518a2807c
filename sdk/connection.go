package sdk

// RemoteHost is a host known to the engine.
type RemoteHost struct {
	// Name is the host's address (name or IP).
	Name string `json:"name"`
	// Reference is the engine's reference of the host object.
	Reference string `json:"reference"`
	// BinaryPath is where the Delphix toolkit binaries live (Unix only).
	BinaryPath string `json:"binary_path"`
	// ScratchPath is a per-host directory owned by the primary environment
	// user that plugins may use for temporary files.
	ScratchPath string `json:"scratch_path"`
}

// RemoteEnvironment is an environment (a host added to the engine).
type RemoteEnvironment struct {
	Name      string     `json:"name"`
	Reference string     `json:"reference"`
	Host      RemoteHost `json:"host"`
}

// RemoteUser is an environment user.
type RemoteUser struct {
	Name      string `json:"name"`
	Reference string `json:"reference"`
}

// RemoteConnection is an environment together with the environment user the
// engine acts as. Platform libraries take one to know where, and as whom, to
// run.
type RemoteConnection struct {
	Environment RemoteEnvironment `json:"environment"`
	User        RemoteUser        `json:"user"`
}
