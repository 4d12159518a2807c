package engineapi

import "encoding/json"

// Object types, as the "type" field of each object names them.
const (
	TypeEnvironment  = "UnixHostEnvironment"
	TypeRepository   = "AppDataRepository"
	TypeSourceConfig = "AppDataSourceConfig"
	TypeContainer    = "AppDataContainer"
	TypeSnapshot     = "AppDataSnapshot"
	TypeToolkit      = "Toolkit"
)

// Host types of an environment.
const (
	HostLocal = "local"
	HostSSH   = "ssh"
)

// Container types and runtime states.
const (
	ContainerDSource = "DSOURCE"
	ContainerVDB     = "VDB"
)

// Environment is a host the engine runs commands on: this host ("local")
// or a host reached over SSH ("ssh").
type Environment struct {
	Type                  string `json:"type"` // UnixHostEnvironment
	Reference             string `json:"reference"`
	Name                  string `json:"name"`
	HostType              string `json:"hostType"` // local | ssh
	Host                  string `json:"host"`
	Port                  int    `json:"port,omitempty"`
	User                  string `json:"user"`
	OSUser                string `json:"osUser,omitempty"` // local: the OS user commands run as (dvp environment add --os-user); "": the engine's
	SSHKeyFile            string `json:"sshKeyFile,omitempty"`
	KnownHostsFile        string `json:"knownHostsFile,omitempty"`
	InsecureIgnoreHostKey bool   `json:"insecureIgnoreHostKey,omitempty"`
	ScratchPath           string `json:"scratchPath"`
	BinaryPath            string `json:"binaryPath"`
	Created               string `json:"created"`
	LastRefresh           string `json:"lastRefresh,omitempty"`
	// Pending is ENVIRONMENT_CREATE from the environment's creation until
	// its first check passed (crash recovery removes one still pending).
	Pending string `json:"pending,omitempty"`
	// Interrupted says which job a stop of the engine cut off while it
	// checked the environment or ran its discovery, and what to do; the
	// next complete discovery clears it.
	Interrupted *Interruption `json:"interrupted,omitempty"`
}

// Repository is a repository discovered on an environment by a plugin.
type Repository struct {
	Type        string          `json:"type"` // AppDataRepository
	Reference   string          `json:"reference"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Toolkit     string          `json:"toolkit"`
	Parameters  json.RawMessage `json:"parameters"`
	Identity    string          `json:"identity"`
	// Missing: the last discovery did not find it, and it is kept because
	// a dSource or VDB uses it.
	Missing bool `json:"missing,omitempty"`
}

// SourceConfig is a dataset of a repository: discovered, added by hand, or
// made by a VDB's configure.
type SourceConfig struct {
	Type        string          `json:"type"` // AppDataSourceConfig
	Reference   string          `json:"reference"`
	Name        string          `json:"name"`
	Repository  string          `json:"repository"`
	Environment string          `json:"environment"`
	Toolkit     string          `json:"toolkit"`
	Parameters  json.RawMessage `json:"parameters"`
	Identity    string          `json:"identity"`
	Discovered  bool            `json:"discovered"`
	Container   string          `json:"container,omitempty"` // the VDB that owns it
	// Missing: the last discovery did not find it, and it is kept because
	// a dSource or VDB uses it.
	Missing bool `json:"missing,omitempty"`
}

// Container is a dSource (linked source) or a VDB (virtual source).
type Container struct {
	Type           string          `json:"type"` // AppDataContainer
	Reference      string          `json:"reference"`
	Name           string          `json:"name"`
	ContainerType  string          `json:"containerType"` // DSOURCE | VDB
	Toolkit        string          `json:"toolkit"`
	PluginType     string          `json:"pluginType"` // STAGED | DIRECT
	GUID           string          `json:"guid"`
	SourceConfig   string          `json:"sourceConfig,omitempty"`
	Repository     string          `json:"repository"`
	Environment    string          `json:"environment"`                 // staging (STAGED), source (DIRECT) or target (VDB)
	SourceEnv      string          `json:"sourceEnvironment,omitempty"` // dSources
	Parameters     json.RawMessage `json:"parameters"`
	Mounts         []Mount         `json:"mounts"`
	ParentSnapshot string          `json:"parentSnapshot,omitempty"` // VDBs: the snapshot it was provisioned/refreshed from
	Parent         string          `json:"parentContainer,omitempty"`
	Enabled        bool            `json:"enabled"`
	Runtime        string          `json:"runtimeStatus"` // ACTIVE | INACTIVE | UNKNOWN
	Storage        string          `json:"storage"`       // the engine directory that holds its data
	Created        string          `json:"created"`
	// Size is the dataset's size in bytes as the plugin's source_size last
	// measured it (nil: unknown); SizeError why the last measure failed.
	Size      *int64 `json:"size,omitempty"`
	SizeError string `json:"sizeError,omitempty"`
	// WorkerRun is when linked.worker last ran (STAGED dSources),
	// WorkerError how it failed then.
	WorkerRun   string `json:"workerRun,omitempty"`
	WorkerError string `json:"workerError,omitempty"`
	// Operations are its hooks (hooks.go), absent when it has none.
	Operations HookOperations `json:"operations,omitempty"`
	// Pending is the action type of the job that creates the container
	// (DB_LINK, DB_PROVISION) until that job ends: still set at a start
	// of the engine, the creation was cut off (docs/engine.md, "Crash
	// recovery").
	Pending string `json:"pending,omitempty"`
	// Interrupted says what a stop of the engine cut off on the container
	// and what to do; the next operation that completes on it clears it.
	Interrupted *Interruption `json:"interrupted,omitempty"`
	// Policy is shown by the API only (from the policy table), never
	// stored in the container's document.
	Policy *Policy `json:"policy,omitempty"`
}

// Interruption is what a stop of the engine (a crash, kill -9) cut off on
// a container: the job, its operation, what it means and what to do.
type Interruption struct {
	Job       string `json:"job,omitempty"`
	Operation string `json:"operation"` // the job's action type, e.g. DB_PROVISION
	Details   string `json:"details"`
	Action    string `json:"action"`
}

// The methods of a Mount (docs/workflows.md, "Mounts and snapshots").
const (
	MountSymlink = "symlink" // local environment: the mount path is a symbolic link to the storage
	MountRsync   = "rsync"   // SSH environment: the storage is copied there, and back after the operations
)

// Mount is a mount of a container's storage on an environment.
type Mount struct {
	Environment string `json:"environment"`
	MountPath   string `json:"mountPath"`
	SharedPath  string `json:"sharedPath,omitempty"`
	Method      string `json:"method"` // MountSymlink | MountRsync
	// Owner is "uid:gid" when the engine gave the storage to the owner
	// the plugin's OwnershipSpecification asked for.
	Owner string `json:"owner,omitempty"`
}

// Snapshot is an independent copy of a container's storage taken by a sync
// or a VDB snapshot, with the plugin's snapshot definition.
type Snapshot struct {
	Type       string          `json:"type"` // AppDataSnapshot
	Reference  string          `json:"reference"`
	Name       string          `json:"name"`
	Container  string          `json:"container"`
	Toolkit    string          `json:"toolkit"`
	Timestamp  string          `json:"timestamp"`
	Resync     bool            `json:"resync"`
	Metadata   json.RawMessage `json:"metadata"` // the post-snapshot result
	Parameters json.RawMessage `json:"snapshotParameters"`
	Dir        string          `json:"storage"`
	Job        string          `json:"job,omitempty"` // the job that took it
}
