// Command recorder is a STAGED test plugin that records what the engine
// calls and is steered by files, both in the scratch path of the
// environment it runs on (a local environment: the test's files):
//
//   - every operation appends "OP key=value ..." to SCRATCH/calls.log;
//   - discovery finds one repository per directory SCRATCH/repos/NAME, and
//     one source config per entry of that directory;
//   - SCRATCH/size holds what source_size returns (else 4096);
//     SCRATCH/fail-size and SCRATCH/fail-worker make source_size and
//     worker fail with a UserError;
//   - the mount specifications mount at parameters.mountLocation, owned
//     by parameters.uid/gid when given (OwnershipSpecification).
package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/runtime"
)

type Repository struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

type SourceConfig struct {
	Path string `json:"path"`
}

type Params struct {
	MountLocation string `json:"mountLocation"`
	UID           *int   `json:"uid,omitempty"`
	GID           *int   `json:"gid,omitempty"`
}

type Snapshot struct {
	Files  int  `json:"files"`
	Policy bool `json:"policyDriven"`
}

type SnapshotParameters struct {
	Resync bool `json:"resync"`
}

type stagedSource = sdk.StagedSource[Params]
type virtualSource = sdk.VirtualSource[Params]

type linkedIn struct {
	StagedSource stagedSource `json:"staged_source"`
	Repository   Repository   `json:"repository"`
	SourceConfig SourceConfig `json:"source_config"`
}

type snapIn struct {
	StagedSource       stagedSource        `json:"staged_source"`
	Repository         Repository          `json:"repository"`
	SourceConfig       SourceConfig        `json:"source_config"`
	SnapshotParameters *SnapshotParameters `json:"snapshot_parameters"`
}

type virtualIn struct {
	VirtualSource virtualSource `json:"virtual_source"`
	Repository    Repository    `json:"repository"`
	SourceConfig  SourceConfig  `json:"source_config"`
}

// record appends a line to SCRATCH/calls.log on the connection's host and
// returns what the shell command run after it printed.
func record(ctx context.Context, conn sdk.RemoteConnection, op string, kv map[string]string, then string) (string, error) {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	line := op
	for _, k := range keys {
		line += " " + k + "=" + kv[k]
	}
	res, err := libs.RunBash(ctx, conn, `printf '%s\n' "$LINE" >> "$SCRATCH/calls.log"`+then,
		libs.Variables(map[string]string{"LINE": line, "SCRATCH": conn.Environment.Host.ScratchPath}), libs.Check())
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

// size is source_size: SCRATCH/size, else 4096; SCRATCH/fail-size fails.
func size(ctx context.Context, conn sdk.RemoteConnection, op string, kv map[string]string) (int64, error) {
	out, err := record(ctx, conn, op, kv, `; if [ -e "$SCRATCH/fail-size" ]; then echo fail; elif [ -e "$SCRATCH/size" ]; then cat "$SCRATCH/size"; else echo 4096; fi`)
	if err != nil {
		return 0, err
	}
	if out == "fail" {
		return 0, &sdk.UserError{Message: "the size cannot be measured", Action: "Remove fail-size."}
	}
	return strconv.ParseInt(out, 10, 64)
}

func mountSpec(env sdk.RemoteEnvironment, p Params) *sdk.MountSpecification {
	spec := &sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: env, MountPath: p.MountLocation}}}
	if p.UID != nil && p.GID != nil {
		spec.OwnershipSpecification = &sdk.OwnershipSpecification{UID: *p.UID, GID: *p.GID}
	}
	return spec
}

func mountOf(ms []sdk.Mount) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].MountPath
}

func main() {
	ops := map[string]runtime.Handler{
		"discovery.repository": runtime.Adapt(func(ctx context.Context, in struct {
			SourceConnection sdk.RemoteConnection `json:"source_connection"`
		}) ([]Repository, error) {
			out, err := record(ctx, in.SourceConnection, "discovery.repository", nil, `; mkdir -p "$SCRATCH/repos" && ls -1 "$SCRATCH/repos"`)
			if err != nil {
				return nil, err
			}
			var repos []Repository
			for _, name := range strings.Fields(out) {
				repos = append(repos, Repository{Name: name, Path: in.SourceConnection.Environment.Host.ScratchPath + "/repos/" + name})
			}
			return repos, nil
		}),
		"discovery.source_config": runtime.Adapt(func(ctx context.Context, in struct {
			SourceConnection sdk.RemoteConnection `json:"source_connection"`
			Repository       Repository           `json:"repository"`
		}) ([]SourceConfig, error) {
			out, err := record(ctx, in.SourceConnection, "discovery.source_config", map[string]string{"repository": in.Repository.Name},
				`; ls -1 "$SCRATCH/repos/`+in.Repository.Name+`"`)
			if err != nil {
				return nil, err
			}
			var scs []SourceConfig
			for _, name := range strings.Fields(out) {
				scs = append(scs, SourceConfig{Path: in.Repository.Path + "/" + name})
			}
			return scs, nil
		}),
		"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
			StagedSource stagedSource `json:"staged_source"`
			Repository   Repository   `json:"repository"`
		}) (*sdk.MountSpecification, error) {
			if _, err := record(ctx, in.StagedSource.StagedConnection, "linked.mount_specification", nil, ""); err != nil {
				return nil, err
			}
			return mountSpec(in.StagedSource.StagedConnection.Environment, in.StagedSource.Parameters), nil
		}),
		"linked.pre_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (any, error) {
			_, err := record(ctx, in.StagedSource.StagedConnection, "linked.pre_snapshot", map[string]string{"params": fmt.Sprint(in.SnapshotParameters != nil)},
				`; cp -R "`+in.SourceConfig.Path+`/." "`+in.StagedSource.Mount.MountPath+`/"`)
			return nil, err
		}),
		"linked.post_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (Snapshot, error) {
			out, err := record(ctx, in.StagedSource.StagedConnection, "linked.post_snapshot", nil, `; ls -1 "`+in.StagedSource.Mount.MountPath+`" | wc -l`)
			if err != nil {
				return Snapshot{}, err
			}
			n, _ := strconv.Atoi(out)
			return Snapshot{Files: n, Policy: in.SnapshotParameters == nil}, nil
		}),
		"linked.worker": runtime.Adapt(func(ctx context.Context, in linkedIn) (any, error) {
			out, err := record(ctx, in.StagedSource.StagedConnection, "linked.worker", map[string]string{"guid": in.StagedSource.GUID},
				`; [ -e "$SCRATCH/fail-worker" ] && echo fail || true`)
			if err != nil {
				return nil, err
			}
			if out == "fail" {
				return nil, &sdk.UserError{Message: "the worker failed", Action: "Remove fail-worker."}
			}
			return nil, nil
		}),
		"linked.source_size": runtime.Adapt(func(ctx context.Context, in linkedIn) (int64, error) {
			return size(ctx, in.StagedSource.StagedConnection, "linked.source_size", map[string]string{"mount": in.StagedSource.Mount.MountPath})
		}),
		"virtual.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
		}) (*sdk.MountSpecification, error) {
			if _, err := record(ctx, in.VirtualSource.Connection, "virtual.mount_specification", nil, ""); err != nil {
				return nil, err
			}
			return mountSpec(in.VirtualSource.Connection.Environment, in.VirtualSource.Parameters), nil
		}),
		"virtual.initialize": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
		}) (SourceConfig, error) {
			mount := mountOf(in.VirtualSource.Mounts)
			if mount == "" {
				return SourceConfig{}, &sdk.UserError{Message: "initialize without a mount"}
			}
			_, err := record(ctx, in.VirtualSource.Connection, "virtual.initialize", map[string]string{"mount": mount, "repository": in.Repository.Name},
				`; printf 'empty\n' > "`+mount+`/INITIALIZED"`)
			return SourceConfig{Path: mount}, err
		}),
		"virtual.configure": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
			Snapshot      Snapshot      `json:"snapshot"`
		}) (SourceConfig, error) {
			mount := mountOf(in.VirtualSource.Mounts)
			_, err := record(ctx, in.VirtualSource.Connection, "virtual.configure", map[string]string{"mount": mount}, "")
			return SourceConfig{Path: mount}, err
		}),
		"virtual.reconfigure": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
			SourceConfig  SourceConfig  `json:"source_config"`
			Snapshot      Snapshot      `json:"snapshot"`
		}) (SourceConfig, error) {
			_, err := record(ctx, in.VirtualSource.Connection, "virtual.reconfigure", nil, "")
			return in.SourceConfig, err
		}),
		"virtual.post_snapshot": runtime.Adapt(func(ctx context.Context, in virtualIn) (Snapshot, error) {
			out, err := record(ctx, in.VirtualSource.Connection, "virtual.post_snapshot", nil, `; ls -1 "`+mountOf(in.VirtualSource.Mounts)+`" | wc -l`)
			n, _ := strconv.Atoi(out)
			return Snapshot{Files: n}, err
		}),
		"virtual.source_size": runtime.Adapt(func(ctx context.Context, in virtualIn) (int64, error) {
			return size(ctx, in.VirtualSource.Connection, "virtual.source_size", map[string]string{"mount": mountOf(in.VirtualSource.Mounts)})
		}),
		"virtual.status": runtime.Adapt(func(ctx context.Context, in virtualIn) (sdk.Status, error) {
			_, err := record(ctx, in.VirtualSource.Connection, "virtual.status", nil, "")
			return sdk.StatusActive, err
		}),
	}
	runtime.Main(&runtime.Plugin{Type: runtime.Staged, Operations: ops})
}
