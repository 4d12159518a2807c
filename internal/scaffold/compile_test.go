package scaffold

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/sdkcopy"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// The typed operations make registration mistakes compile errors.
func TestCompilerRejectsBadRegistrations(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles plugins")
	}
	cases := []struct {
		name, pluginType string
		edit             func(src string) string
		want             []string // all in the go build output
	}{
		{
			name: "wrong signature", pluginType: protocol.PluginTypeStaged,
			edit: func(src string) string {
				// linked.post_snapshot of a STAGED plugin gets a StagedSource,
				// not a DirectSource, and returns a SnapshotDefinition.
				return src + `
func wrongPostSnapshot(ctx context.Context, directSource sdk.DirectSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshotParameters *generated.SnapshotParametersDefinition) error {
	return nil
}

var _ = generated.Plugin{Linked: generated.LinkedOperations{PostSnapshot: wrongPostSnapshot}}
`
			},
			want: []string{"cannot use wrongPostSnapshot", "as func(ctx context.Context, stagedSource sdk.StagedSource[generated.LinkedSourceDefinition]"},
		},
		{
			name: "duplicate registration", pluginType: protocol.PluginTypeStaged,
			edit: func(src string) string {
				// The linked post-snapshot registered twice.
				return regexp.MustCompile(`(?m)^\t\tPostSnapshot: +linkedPostSnapshot,\n`).ReplaceAllString(src, "$0$0")
			},
			want: []string{"duplicate field name PostSnapshot in struct literal"},
		},
		{
			name: "staged-only operation in a DIRECT plugin", pluginType: protocol.PluginTypeDirect,
			edit: func(src string) string {
				return strings.Replace(src, "\t\tPostSnapshot: linkedPostSnapshot,\n",
					"\t\tPostSnapshot: linkedPostSnapshot,\n\t\tMountSpecification: virtualMountSpecification,\n", 1)
			},
			want: []string{"unknown field MountSpecification in struct literal of type generated.LinkedOperations"},
		},
		{
			name: "staged-only start_staging in a DIRECT plugin", pluginType: protocol.PluginTypeDirect,
			edit: func(src string) string {
				return src + "\nvar _ = generated.LinkedOperations{StartStaging: nil}\n"
			},
			want: []string{"unknown field StartStaging in struct literal of type generated.LinkedOperations"},
		},
	}
	env := goEnv(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if _, err := Init(Options{Root: root, Name: "reject", PluginType: c.pluginType, HostType: Unix}); err != nil {
				t.Fatal(err)
			}
			runner := filepath.Join(root, SrcDir, EntryPointFile)
			src, err := os.ReadFile(runner)
			if err != nil {
				t.Fatal(err)
			}
			edited := c.edit(string(src))
			if edited == string(src) {
				t.Fatal("the edit changed nothing")
			}
			if err := os.WriteFile(runner, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := goCmd(t, filepath.Join(root, SrcDir), env, "build", "-trimpath", "-o", os.DevNull, ".")
			if err == nil {
				t.Fatalf("go build succeeded; want a compile error")
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("go build output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestSyncSDK(t *testing.T) {
	root := t.TempDir()
	changed, err := sdkcopy.SyncSDK(root)
	if err != nil || !changed {
		t.Fatalf("first sync: %v %v", changed, err)
	}
	changed, err = sdkcopy.SyncSDK(root)
	if err != nil || changed {
		t.Fatalf("second sync: %v %v", changed, err)
	}
	dir := filepath.Join(root, ".dvp", "sdk")
	edits := []func(){
		func() { os.WriteFile(filepath.Join(dir, "runtime", "runtime.go"), []byte("package runtime\n"), 0o644) },
		func() { os.WriteFile(filepath.Join(dir, "extra.go"), []byte("package sdk\n"), 0o644) },
		func() { os.Remove(filepath.Join(dir, "libs", "libs.go")) },
		func() { os.WriteFile(filepath.Join(dir, sdkcopy.VersionFile), []byte("old\n"), 0o644) },
	}
	for i, edit := range edits {
		edit()
		changed, err = sdkcopy.SyncSDK(root)
		if err != nil || !changed {
			t.Fatalf("edit %d: sync %v %v", i, changed, err)
		}
		if ok, err := sdkcopy.UpToDate(dir); !ok || err != nil {
			t.Fatalf("edit %d: not restored (%v)", i, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, ".dvp"))
	if len(entries) != 1 || entries[0].Name() != "sdk" {
		t.Fatalf(".dvp holds %v", entries)
	}
}
