package protocol

import (
	"reflect"
	"testing"
)

func TestOperationTable(t *testing.T) {
	ops := Operations()
	if len(ops) != 22 {
		t.Fatalf("%d operations", len(ops))
	}
	keys := map[string]bool{}
	for _, o := range ops {
		if keys[o.ManifestKey] {
			t.Errorf("duplicate key %s", o.ManifestKey)
		}
		keys[o.ManifestKey] = true
		if o.Staged && len(o.StagedArgs) == 0 || o.Direct && len(o.DirectArgs) == 0 {
			t.Errorf("%s has no args", o.Name)
		}
	}
	ms, _ := LookupOperation("linked.mount_specification")
	if ms.Direct || !ms.Required(PluginTypeStaged) || ms.Required(PluginTypeDirect) || !reflect.DeepEqual(ms.Args(PluginTypeStaged), []string{"staged_source", "repository"}) {
		t.Fatalf("%+v", ms)
	}
	pre, _ := LookupOperation("linked.pre_snapshot")
	if !reflect.DeepEqual(pre.Args(PluginTypeDirect), []string{"direct_source", "repository", "source_config", "snapshot_parameters"}) {
		t.Fatalf("%+v", pre)
	}
	if ini, _ := LookupOperation("virtual.initialize"); ini.ManifestKey != "hasInitialize" {
		t.Fatal(ini.ManifestKey)
	}
}
