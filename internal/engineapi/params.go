package engineapi

import "encoding/json"

// Request body types, as their "type" field names them.
const (
	TypeEnvironmentCreateParameters  = "EnvironmentCreateParameters"
	TypeSourceConfigCreateParameters = "SourceConfigCreateParameters"
	TypeEnvironmentUpdateParameters  = "EnvironmentUpdateParameters"
	TypeSourceConfigUpdateParameters = "SourceConfigUpdateParameters"
	TypeLinkParameters               = "LinkParameters"
	TypeProvisionParameters          = "ProvisionParameters"
	TypeEmptyVDBParameters           = "EmptyVDBCreationParameters"
	TypeSyncParameters               = "SyncParameters"
)

// The request bodies. The engine decodes them (a missing field is its zero
// value); the fields a client may leave out are omitted when empty.

// EnvironmentCreateParameters is the body of POST delphix/environment.
type EnvironmentCreateParameters struct {
	Type                  string `json:"type"`
	Name                  string `json:"name"`
	HostType              string `json:"hostType"` // local | ssh
	Host                  string `json:"host,omitempty"`
	Port                  int    `json:"port,omitempty"`
	User                  string `json:"user,omitempty"`
	OSUser                string `json:"osUser,omitempty"` // local: the OS user commands run as ("": the engine's)
	SSHKeyFile            string `json:"sshKeyFile,omitempty"`
	KnownHostsFile        string `json:"knownHostsFile,omitempty"`
	InsecureIgnoreHostKey bool   `json:"insecureIgnoreHostKey,omitempty"`
}

// EnvironmentUpdateParameters is the body of POST
// delphix/environment/{ref}: the SSH settings that change (nil: as they
// are).
type EnvironmentUpdateParameters struct {
	Type                  string  `json:"type"`
	Host                  *string `json:"host,omitempty"`
	Port                  *int    `json:"port,omitempty"`
	User                  *string `json:"user,omitempty"`
	SSHKeyFile            *string `json:"sshKeyFile,omitempty"`
	KnownHostsFile        *string `json:"knownHostsFile,omitempty"`
	InsecureIgnoreHostKey *bool   `json:"insecureIgnoreHostKey,omitempty"`
	// OSUser is a local environment's new OS user ("": the engine's own).
	OSUser *string `json:"osUser,omitempty"`
}

// SourceConfigUpdateParameters is the body of POST
// delphix/sourceconfig/{ref}: the new parameters.
type SourceConfigUpdateParameters struct {
	Type       string          `json:"type"`
	Parameters json.RawMessage `json:"parameters"`
}

// SourceConfigCreateParameters is the body of POST delphix/sourceconfig.
type SourceConfigCreateParameters struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Repository  string          `json:"repository"`
	Parameters  json.RawMessage `json:"parameters"`
}

// LinkParameters is the body of POST delphix/database/link.
type LinkParameters struct {
	Type               string          `json:"type"`
	Name               string          `json:"name"`
	SourceConfig       string          `json:"sourceConfig"`
	StagingEnvironment string          `json:"stagingEnvironment"`
	Parameters         json.RawMessage `json:"parameters"`
	SnapshotParameters json.RawMessage `json:"snapshotParameters,omitempty"`
	// Operations are the dSource's hooks (pre-sync, post-sync).
	Operations HookOperations `json:"operations,omitempty"`

	// Policy sets the dSource's sync policy and retention.
	Policy *PolicyParameters `json:"policy,omitempty"`
}

// ProvisionParameters is the body of POST delphix/database/provision.
type ProvisionParameters struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Snapshot    string          `json:"snapshot"`
	Environment string          `json:"environment"`
	Repository  string          `json:"repository"`
	Parameters  json.RawMessage `json:"parameters"`
	// Operations are the VDB's hooks.
	Operations HookOperations `json:"operations,omitempty"`

	// Policy sets the VDB's refresh policy and retention.
	Policy *PolicyParameters `json:"policy,omitempty"`
}

// ContainerUpdateParameters is the body of POST delphix/database/{ref}
// (an update, as a Delphix engine takes one: the object's type and the
// fields that change). A field left out keeps its value; each new field
// is optional, so that an older client's body means the same.
type ContainerUpdateParameters struct {
	Type string `json:"type,omitempty"` // AppDataContainer
	// Operations set the commands of the hook points they name (an empty
	// list removes that hook); the other hook points keep theirs.
	Operations HookOperations `json:"operations,omitempty"`

	// Policy changes the policy and retention (docs/engine.md, "Policies and retention").
	Policy *PolicyParameters `json:"policy,omitempty"`
}

// EmptyVDBParameters is the body of POST delphix/database/createEmpty.
type EmptyVDBParameters struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Repository  string          `json:"repository"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ContainerOpParameters is the body of POST delphix/database/{ref}/{op}
// (every field optional; an empty body is all zero).
type ContainerOpParameters struct {
	Type               string          `json:"type,omitempty"`
	Resync             bool            `json:"resync,omitempty"`
	SnapshotParameters json.RawMessage `json:"snapshotParameters,omitempty"`
	Snapshot           string          `json:"snapshot,omitempty"` // refresh, rollback
	// Force (delete): remove the container even when the plugin's
	// clean-up operations fail; the job says what it skipped.
	Force bool `json:"force,omitempty"`
}

// ContainerOp is an operation of POST delphix/database/{ref}/{op}.
type ContainerOp struct {
	Name string
	// Only is the container type the operation applies to; "" for both.
	Only string
}

// AppliesTo reports whether the operation applies to containers of the
// type (DSOURCE or VDB).
func (o ContainerOp) AppliesTo(containerType string) bool {
	return o.Only == "" || o.Only == containerType
}

// ContainerOps are the container operations, in the order they are listed.
var ContainerOps = []ContainerOp{
	{"sync", ContainerDSource},
	{"refresh", ContainerVDB},
	{"rollback", ContainerVDB},
	{"snapshot", ContainerVDB},
	{"start", ContainerVDB},
	{"stop", ContainerVDB},
	{"enable", ""},
	{"disable", ""},
	{"status", ""},
	{"delete", ""},
}
