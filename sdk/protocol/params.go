package protocol

import (
	"encoding/json"

	"github.com/dvpkit/dvp/sdk"
)

// RunBashParams are the params of run_bash.
type RunBashParams struct {
	Connection    sdk.RemoteConnection `json:"remote_connection"`
	Command       string               `json:"command"`
	Variables     map[string]string    `json:"variables,omitempty"`
	UseLoginShell bool                 `json:"use_login_shell,omitempty"`
}

// RunPowershellParams are the params of run_powershell.
type RunPowershellParams struct {
	Connection sdk.RemoteConnection `json:"remote_connection"`
	Command    string               `json:"command"`
	Variables  map[string]string    `json:"variables,omitempty"`
}

// RunExpectParams are the params of run_expect.
type RunExpectParams struct {
	Connection sdk.RemoteConnection `json:"remote_connection"`
	Command    string               `json:"command"`
	Variables  map[string]string    `json:"variables,omitempty"`
}

// RunResult is the result of run_bash, run_powershell and run_expect, as it
// travels on the wire; plugins see it as libs.RunResult, which has the same
// fields.
type RunResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// RunSyncParams are the params of run_sync; its result is null.
type RunSyncParams struct {
	Connection       sdk.RemoteConnection `json:"remote_connection"`
	SourceDirectory  string               `json:"source_directory"`
	RsyncUser        string               `json:"rsync_user,omitempty"`
	ExcludePaths     []string             `json:"exclude_paths,omitempty"`
	SymLinksToFollow []string             `json:"sym_links_to_follow,omitempty"`
}

// RetrieveCredentialsParams are the params of retrieve_credentials: the
// credentials supplier object exactly as the plugin received it.
type RetrieveCredentialsParams struct {
	CredentialsSupplier json.RawMessage `json:"credentials_supplier"`
}

// CredentialsResult is the result of retrieve_credentials. The plugin turns
// it into sdk.KeyPairCredentials when PrivateKey or PublicKey is set, into
// sdk.PasswordCredentials otherwise.
type CredentialsResult struct {
	Username   string `json:"username"`
	Password   string `json:"password,omitempty"`
	PrivateKey string `json:"private_key,omitempty"`
	PublicKey  string `json:"public_key,omitempty"`
}

// UpgradePasswordParams are the params of upgrade_password.
type UpgradePasswordParams struct {
	Password string `json:"password"`
	Username string `json:"username,omitempty"`
}

// UpgradePasswordResult is the result of upgrade_password: an object that
// conforms to passwordCredentialsSupplier.
type UpgradePasswordResult struct {
	CredentialsSupplier json.RawMessage `json:"credentials_supplier"`
}

// Log levels of the log method.
const (
	LevelDebug = "DEBUG"
	LevelInfo  = "INFO"
	LevelError = "ERROR"
)

// LogParams are the params of log; its result is null.
type LogParams struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Upgrade kinds (UpgradeInput.Kind, Migration kinds).
const (
	KindRepository    = "repository"
	KindSourceConfig  = "source_config"
	KindLinkedSource  = "linked_source"
	KindVirtualSource = "virtual_source"
	KindSnapshot      = "snapshot"
)

// UpgradeKinds lists the five kinds of upgradable objects.
var UpgradeKinds = []string{KindRepository, KindSourceConfig, KindLinkedSource, KindVirtualSource, KindSnapshot}

// UpgradeInput is the input of the upgrade operation.
type UpgradeInput struct {
	Kind string `json:"kind"`
	// MigrationIDs are the platform migration ids to apply, in order.
	MigrationIDs []string `json:"migration_ids"`
	// LuaUpgradeVersion is the "major.minor" version of the Lua plugin the
	// objects come from; empty when they do not come from a Lua plugin.
	LuaUpgradeVersion string `json:"lua_upgrade_version,omitempty"`
	// PreUpgradeParameters maps object references to their JSON.
	PreUpgradeParameters map[string]json.RawMessage `json:"pre_upgrade_parameters"`
}

// UpgradeOutput is the output of the upgrade operation.
type UpgradeOutput struct {
	PostUpgradeParameters map[string]json.RawMessage `json:"post_upgrade_parameters"`
}

// Manifest is what a plugin prints in manifest mode.
type Manifest struct {
	Protocol         string `json:"protocol"`
	ProtocolVersions []int  `json:"protocol_versions"`
	SDKVersion       string `json:"sdk_version"`
	PluginType       string `json:"plugin_type"`
	// Operations are the implemented operation names, sorted.
	Operations []string `json:"operations"`
	// Migrations in registration order.
	Migrations []ManifestMigration `json:"migrations"`
	// Errors are the problems of the plugin's registrations; a plugin with
	// errors exits with status 1 in manifest mode and refuses to serve.
	Errors []string `json:"errors,omitempty"`
}

// ManifestMigration describes one registered migration.
type ManifestMigration struct {
	Kind string `json:"kind"`
	// ID as written by the plugin author.
	ID string `json:"id"`
	// CanonicalID: for platform migrations integers without leading zeros
	// and without trailing zero parts ("2019.04.01.0" -> "2019.4.1"); for
	// Lua migrations "major.minor" without leading zeros. Empty when ID is
	// invalid (see Manifest.Errors).
	CanonicalID string            `json:"canonical_id,omitempty"`
	Type        sdk.MigrationType `json:"type"`
	// Name of the function, for messages.
	Name string `json:"name,omitempty"`
}
