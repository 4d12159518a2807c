package build

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// checkBaseline applies the engine's upgrade checks to the new artifact as
// an upgrade of the one at path (a previously released artifact.json): the
// build number may not decrease and no released migration id may
// disappear (errors, artifact.CheckUpgrade); and a changed schema of an
// upgradable object kind without a new migration of that kind is a
// warning, since objects the engine already has would not be migrated.
func checkBaseline(path string, next *artifact.Artifact, migs []protocol.ManifestMigration, configPath string) diag.List {
	data, err := fsutil.ReadRegular(path, maxBaseline)
	if err != nil {
		return diag.List{diag.Errorf(path, 0, 0, "cannot read the baseline artifact: %v", err)}
	}
	old, err := artifact.Decode(bytes.NewReader(data))
	if err != nil {
		p := diag.Errorf(path, 0, 0, "the baseline is not an artifact.json that dvp can read: %v", err)
		p.Hint = "--baseline takes the artifact.json of the plugin build that is installed on engines"
		return diag.List{p}
	}
	var ps diag.List
	for _, p := range artifact.CheckUpgrade(old, next) {
		p.File = path
		if p.Pointer == "/buildNumber" {
			p.File = configPath
		}
		ps = append(ps, p)
	}
	released := map[string]bool{}
	for _, id := range old.Manifest.MigrationIDList {
		released[protocol.CanonicalNumber(id)] = true
	}
	newKinds := map[string]bool{}
	for _, m := range migs {
		if m.Type != sdk.PlatformMigration {
			continue
		}
		if c, err := protocol.CanonicalMigrationID(m.ID); err == nil && !released[c] {
			newKinds[m.Kind] = true
		}
	}
	for _, k := range []struct {
		kind, what       string
		oldDef, newDef   json.RawMessage
		oldIDs, newIDs   []string
		oldName, newName string
	}{
		{protocol.KindRepository, "repositoryDefinition", old.DiscoveryDefinition.RepositorySchema, next.DiscoveryDefinition.RepositorySchema,
			old.DiscoveryDefinition.RepositoryIdentityFields, next.DiscoveryDefinition.RepositoryIdentityFields,
			old.DiscoveryDefinition.RepositoryNameField, next.DiscoveryDefinition.RepositoryNameField},
		{protocol.KindSourceConfig, "sourceConfigDefinition", old.DiscoveryDefinition.SourceConfigSchema, next.DiscoveryDefinition.SourceConfigSchema,
			old.DiscoveryDefinition.SourceConfigIdentityFields, next.DiscoveryDefinition.SourceConfigIdentityFields,
			old.DiscoveryDefinition.SourceConfigNameField, next.DiscoveryDefinition.SourceConfigNameField},
		{protocol.KindLinkedSource, "linkedSourceDefinition", old.LinkedSourceDefinition.Parameters, next.LinkedSourceDefinition.Parameters, nil, nil, "", ""},
		{protocol.KindVirtualSource, "virtualSourceDefinition", old.VirtualSourceDefinition.Parameters, next.VirtualSourceDefinition.Parameters, nil, nil, "", ""},
		{protocol.KindSnapshot, "snapshotDefinition", old.SnapshotSchema, next.SnapshotSchema, nil, nil, "", ""},
	} {
		changed := !sameJSON(k.oldDef, k.newDef) || !reflect.DeepEqual(nonNil(k.oldIDs), nonNil(k.newIDs)) || k.oldName != k.newName
		if changed && !newKinds[k.kind] {
			p := diag.Warningf(path, 0, 0, "%s changed since build %s, but the plugin has no new migration for upgrade.%s(): objects of the installed plugin keep their old shape",
				k.what, old.BuildNumber, k.kind)
			p.Hint = "register a platform migration of kind " + k.kind + " with a new migration id that turns an object of the old schema into one of the new"
			ps = append(ps, p)
		}
	}
	return ps
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// sameJSON compares two JSON documents by value (key order and spacing
// ignored, numbers by their text).
func sameJSON(a, b json.RawMessage) bool {
	var va, vb any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

// maxBaseline bounds the --baseline read: an artifact as large as the
// local engine takes by default (--max-upload-size); a device or FIFO is
// refused (fsutil.ReadRegular).
const maxBaseline = 2 << 30
