// Package sdk holds the platform classes of the Delphix virtualization plugin
// model for plugins written in Go: connections, environments, sources,
// mounts, statuses, credentials and the user-visible error.
//
// The SDK is the Go module github.com/dvpkit/dvp/sdk, versioned with dvp
// (Version). It imports the Go standard library only, so a plugin project
// builds offline. Its sibling packages are:
//
//   - sdk/libs: the platform libraries (RunBash, RunSync, RunPowershell,
//     RunExpect, RetrieveCredentials, UpgradePassword) and the logging handler;
//   - sdk/runtime: the operation registry and the runtime that lets an engine
//     call the plugin (manifest mode and serve mode);
//   - sdk/plugintest: unit tests of a plugin's operations, in-process, against
//     a fake platform;
//   - sdk/types: what code generated from schema.json uses (Ptr, Password,
//     the credentials suppliers, ValidationErrors) and Unmarshal, the one way
//     the SDK decodes JSON for a plugin;
//   - sdk/protocol: the versioned JSON protocol spoken between an engine and
//     a plugin process (see docs/runtime-protocol.md in the dvp repository).
//
// Plugin-defined objects (the parameters of sources, repositories, source
// configs, snapshots) are Go types generated from the plugin's schema.json;
// the source classes are generic over them, for example
// sdk.StagedSource[LinkedSourceDefinition].
package sdk

// Version is the version of this SDK. It is reported by the plugin runtime in
// its manifest and in the protocol handshake.
const Version = "0.1.0"
