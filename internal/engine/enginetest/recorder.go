package enginetest

import (
	"encoding/json"

	"github.com/dvpkit/dvp/internal/artifact"
)

// RecorderID is the plugin id of RecorderArtifact.
const RecorderID = "5ec04de7-0000-4000-8000-000000000017"

// RecorderArtifact is the artifact of testdata/plugins/recorder (bin its
// linux/amd64 binary): a STAGED plugin that records every operation the
// engine calls in calls.log of the environment's scratch path, with every
// operation it implements in its manifest and schemas that match it.
// mutate, when not nil, changes it further.
func RecorderArtifact(bin []byte, mutate func(a *artifact.Artifact)) *artifact.Artifact {
	return Artifact(Options{ID: RecorderID, Name: "recorder", Staged: true, Binary: bin, Mutate: func(a *artifact.Artifact) {
		dd := &a.DiscoveryDefinition
		dd.RepositorySchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}, "path": {"type": "string", "format": "unixpath"}}}`)
		dd.RepositoryIdentityFields, dd.RepositoryNameField = []string{"name"}, "name"
		dd.SourceConfigSchema = json.RawMessage(`{"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "format": "unixpath"}}}`)
		dd.SourceConfigIdentityFields, dd.SourceConfigNameField = []string{"path"}, "path"
		params := json.RawMessage(`{"type": "object", "required": ["mountLocation"], "additionalProperties": false, "properties": {
			"mountLocation": {"type": "string", "format": "unixpath"}, "uid": {"type": "integer"}, "gid": {"type": "integer"}}}`)
		a.LinkedSourceDefinition.Parameters, a.VirtualSourceDefinition.Parameters = params, params
		a.SnapshotSchema = json.RawMessage(`{"type": "object", "properties": {"files": {"type": "integer"}, "policyDriven": {"type": "boolean"}}}`)
		a.SnapshotParametersDefinition.Schema = json.RawMessage(`{"type": "object", "properties": {"resync": {"type": "boolean"}}}`)
		m := &a.Manifest
		m.HasLinkedPreSnapshot, m.HasLinkedWorker, m.HasLinkedSourceSize = true, true, true
		m.HasInitialize, m.HasVirtualSourceSize, m.HasVirtualStatus = true, true, true
		if mutate != nil {
			mutate(a)
		}
	}}, nil)
}
