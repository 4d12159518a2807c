// Command slow is a STAGED test plugin whose sync takes as long as its
// test says: linked.pre_snapshot runs one command on the staging
// environment that prints the lines the source directory's "lines" file
// counts, then, while a file "hang" is in the source directory, waits in a
// process named after the source directory (so that a test can tell
// whether it still runs); linked.post_snapshot waits the same way while a
// file "hang-post" is there. The job-control tests cancel it.
package main

import (
	"context"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/runtime"
)

type Repository struct {
	Name string `json:"name"`
}

type SourceConfig struct {
	Path string `json:"path"`
}

type LinkedSource struct {
	MountLocation string `json:"mountLocation"`
}

type stagedSource = sdk.StagedSource[LinkedSource]

type snapIn struct {
	StagedSource stagedSource `json:"staged_source"`
	SourceConfig SourceConfig `json:"source_config"`
}

// preSnapshot prints the lines, then waits while $SRC/hang exists, in a
// process whose name (argv[0]) is "slow-wait:$SRC".
const preSnapshot = `n=$(cat "$SRC/lines" 2>/dev/null || echo 0)
i=1; while [ "$i" -le "$n" ]; do echo "copying part $i"; i=$((i+1)); done
if [ -e "$SRC/hang" ]; then exec -a "slow-wait:$SRC" sleep 600; fi
echo "copied"`

// postSnapshot waits while $SRC/hang-post exists: the snapshot is being
// taken then.
const postSnapshot = `if [ -e "$SRC/hang-post" ]; then exec -a "slow-wait:$SRC" sleep 600; fi`

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			"discovery.repository": runtime.Adapt(func(ctx context.Context, in struct{}) ([]Repository, error) {
				return []Repository{{Name: "slow"}}, nil
			}),
			"discovery.source_config": runtime.Adapt(func(ctx context.Context, in struct{}) ([]SourceConfig, error) {
				return []SourceConfig{}, nil
			}),
			"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
				StagedSource stagedSource `json:"staged_source"`
			}) (*sdk.MountSpecification, error) {
				return &sdk.MountSpecification{Mounts: []sdk.Mount{{
					RemoteEnvironment: in.StagedSource.StagedConnection.Environment,
					MountPath:         in.StagedSource.Parameters.MountLocation,
				}}}, nil
			}),
			"linked.pre_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (any, error) {
				_, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, preSnapshot,
					libs.Variables(map[string]string{"SRC": in.SourceConfig.Path}), libs.Check())
				return nil, err
			}),
			"linked.post_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (map[string]any, error) {
				_, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, postSnapshot,
					libs.Variables(map[string]string{"SRC": in.SourceConfig.Path}), libs.Check())
				return map[string]any{}, err
			}),
		},
	})
}
