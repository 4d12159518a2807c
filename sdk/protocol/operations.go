package protocol

// The plugin operations: their wire names, the artifact manifest flag each
// sets, for which plugin types they exist and which are required, their
// input fields and what they return. The runtime (sdk/runtime), the code
// generator and dvp build, and the engine's plugin host all read this one
// table (docs/runtime-protocol.md lists it).

import "sync"

// OutputKind says what an operation returns, and so how the runtime checks
// and encodes the result.
type OutputKind int

const (
	// OutputNone: the result is ignored and sent as null.
	OutputNone OutputKind = iota
	// OutputList: a list of plugin-defined objects (a nil slice is an
	// empty list).
	OutputList
	// OutputObject: one plugin-defined object.
	OutputObject
	// OutputStatus: an sdk.Status.
	OutputStatus
	// OutputSize: a non-negative integer, the size of the dataset in bytes.
	OutputSize
	// OutputMountSpecification: an sdk.MountSpecification.
	OutputMountSpecification
)

// Plugin types: the pluginType of plugin_config.yml, the Type of a
// runtime.Plugin and the "type" of the manifest.
const (
	PluginTypeDirect = "DIRECT"
	PluginTypeStaged = "STAGED"
)

// OperationSpec describes one plugin operation.
type OperationSpec struct {
	// Name as used on the wire, e.g. "linked.pre_snapshot".
	Name string
	// ManifestKey is the artifact manifest flag, e.g. "hasLinkedPreSnapshot".
	ManifestKey string
	// Direct and Staged tell for which plugin types the operation exists.
	Direct, Staged bool
	// RequiredDirect and RequiredStaged: the engine fails the workflow
	// when the operation is missing (dvp build warns).
	RequiredDirect, RequiredStaged bool
	// DirectArgs and StagedArgs are the field names of the operation's
	// input object for each plugin type (nil when not applicable).
	DirectArgs, StagedArgs []string
	// Output is what the operation returns; OutputType names it in messages.
	Output     OutputKind
	OutputType string
}

// Args returns the input field names for the plugin type.
func (s OperationSpec) Args(pluginType string) []string {
	if pluginType == PluginTypeDirect {
		return s.DirectArgs
	}
	return s.StagedArgs
}

// Supports reports whether the operation exists for the plugin type.
func (s OperationSpec) Supports(pluginType string) bool {
	if pluginType == PluginTypeDirect {
		return s.Direct
	}
	return s.Staged
}

// Required reports whether the operation is required for the plugin type.
func (s OperationSpec) Required(pluginType string) bool {
	if pluginType == PluginTypeDirect {
		return s.RequiredDirect
	}
	return s.RequiredStaged
}

func both(args ...string) ([]string, []string) { return args, args }

func linkedArgs(rest ...string) ([]string, []string) {
	return append([]string{"direct_source"}, rest...), append([]string{"staged_source"}, rest...)
}

// operationSpecs builds the table on first use, not in the package's
// initialisation, which every dvp process and every plugin process runs.
var operationSpecs = sync.OnceValue(func() []OperationSpec {
	var specs []OperationSpec
	add := func(name, key string, direct, staged, reqDirect, reqStaged bool, args [2][]string, out OutputKind, outType string) {
		s := OperationSpec{Name: name, ManifestKey: key, Direct: direct, Staged: staged,
			RequiredDirect: reqDirect, RequiredStaged: reqStaged, Output: out, OutputType: outType}
		if direct {
			s.DirectArgs = args[0]
		}
		if staged {
			s.StagedArgs = args[1]
		}
		specs = append(specs, s)
	}
	a := func(d, s []string) [2][]string { return [2][]string{d, s} }
	const rsc = "repository"
	add("discovery.repository", "hasRepositoryDiscovery", true, true, true, true, a(both("source_connection")), OutputList, "a list of RepositoryDefinition objects")
	add("discovery.source_config", "hasSourceConfigDiscovery", true, true, true, true, a(both("source_connection", rsc)), OutputList, "a list of SourceConfigDefinition objects")
	add("linked.pre_snapshot", "hasLinkedPreSnapshot", true, true, false, false, a(linkedArgs(rsc, "source_config", "snapshot_parameters")), OutputNone, "")
	add("linked.post_snapshot", "hasLinkedPostSnapshot", true, true, true, true, a(linkedArgs(rsc, "source_config", "snapshot_parameters")), OutputObject, "a SnapshotDefinition object")
	add("linked.start_staging", "hasLinkedStartStaging", false, true, false, false, a(linkedArgs(rsc, "source_config")), OutputNone, "")
	add("linked.stop_staging", "hasLinkedStopStaging", false, true, false, false, a(linkedArgs(rsc, "source_config")), OutputNone, "")
	add("linked.status", "hasLinkedStatus", false, true, false, false, a(linkedArgs(rsc, "source_config")), OutputStatus, "an sdk.Status")
	add("linked.worker", "hasLinkedWorker", false, true, false, false, a(linkedArgs(rsc, "source_config")), OutputNone, "")
	add("linked.mount_specification", "hasLinkedMountSpecification", false, true, false, true, a(linkedArgs(rsc)), OutputMountSpecification, "an sdk.MountSpecification")
	add("linked.source_size", "hasLinkedSourceSize", true, true, false, false, a(linkedArgs(rsc, "source_config")), OutputSize, "a non-negative integer (bytes)")
	vs := func(rest ...string) [2][]string { return a(both(append([]string{"virtual_source"}, rest...)...)) }
	add("virtual.configure", "hasVirtualConfigure", true, true, true, true, vs(rsc, "snapshot"), OutputObject, "a SourceConfigDefinition object")
	add("virtual.unconfigure", "hasVirtualUnconfigure", true, true, false, false, vs(rsc, "source_config"), OutputNone, "")
	add("virtual.reconfigure", "hasVirtualReconfigure", true, true, true, true, vs(rsc, "source_config", "snapshot"), OutputObject, "a SourceConfigDefinition object")
	add("virtual.cleanup", "hasVirtualCleanup", true, true, false, false, vs(rsc, "source_config"), OutputNone, "")
	add("virtual.start", "hasVirtualStart", true, true, false, false, vs(rsc, "source_config"), OutputNone, "")
	add("virtual.stop", "hasVirtualStop", true, true, false, false, vs(rsc, "source_config"), OutputNone, "")
	add("virtual.pre_snapshot", "hasVirtualPreSnapshot", true, true, false, false, vs(rsc, "source_config"), OutputNone, "")
	add("virtual.post_snapshot", "hasVirtualPostSnapshot", true, true, true, true, vs(rsc, "source_config"), OutputObject, "a SnapshotDefinition object")
	add("virtual.mount_specification", "hasVirtualMountSpecification", true, true, true, true, vs(rsc), OutputMountSpecification, "an sdk.MountSpecification")
	add("virtual.status", "hasVirtualStatus", true, true, false, false, vs(rsc, "source_config"), OutputStatus, "an sdk.Status")
	add("virtual.initialize", "hasInitialize", true, true, false, false, vs(rsc), OutputObject, "a SourceConfigDefinition object")
	add("virtual.source_size", "hasVirtualSourceSize", true, true, false, false, vs(rsc, "source_config"), OutputSize, "a non-negative integer (bytes)")
	return specs
})

// Operations returns the specs of all plugin operations, in the order of the
// artifact manifest's flags.
func Operations() []OperationSpec {
	specs := operationSpecs()
	out := make([]OperationSpec, len(specs))
	copy(out, specs)
	return out
}

// LookupOperation returns the spec of the named operation.
func LookupOperation(name string) (OperationSpec, bool) {
	for _, s := range operationSpecs() {
		if s.Name == name {
			return s, true
		}
	}
	return OperationSpec{}, false
}
