package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/types"

	"hostile/generated"
)

// The attacks on the engine's store through discovery (internal/engine/e2e
// hostile_discovery_test.go), chosen by the environment's name: every
// repository and source config a discovery returns becomes a row of the
// engine's database and an event of its job, and every repository one more
// source config discovery.
//
//   - "quiet": nothing found, at once (the test's environment to start from);
//   - "manyrepos": 1500 repositories in one answer;
//   - "manyconfigs": 3 repositories of 4000 source configs each;
//   - "bigconfigs": 20 repositories of 7 source configs of 500 KB each
//     (3.5 MB an answer, under the 4 MiB limit of one; 70 MB in all);
//   - "manymounts": one repository and one source config, whose dSource's
//     mount specification holds 500 mounts (floodMounts).
func floodRepositories(conn sdk.RemoteConnection) (report, bool) {
	var r report
	switch conn.Environment.Name {
	case "quiet":
	case "manyrepos":
		for i := range 1500 {
			r = append(r, generated.RepositoryDefinition{Name: types.Ptr(fmt.Sprintf("r%05d", i))})
		}
	case "manyconfigs":
		for i := range 3 {
			r = append(r, generated.RepositoryDefinition{Name: types.Ptr(fmt.Sprintf("r%d", i))})
		}
	case "manymounts":
		r = append(r, generated.RepositoryDefinition{Name: types.Ptr("r")})
	case "bigconfigs":
		for i := range 20 {
			r = append(r, generated.RepositoryDefinition{Name: types.Ptr(fmt.Sprintf("r%02d", i))})
		}
	default:
		return nil, false
	}
	return r, true
}

func floodSourceConfigs(_ context.Context, conn sdk.RemoteConnection, repository generated.RepositoryDefinition) []generated.SourceConfigDefinition {
	var out []generated.SourceConfigDefinition
	repo := ""
	if repository.Name != nil {
		repo = *repository.Name
	}
	switch conn.Environment.Name {
	case "manyconfigs":
		for i := range 4000 {
			out = append(out, generated.SourceConfigDefinition{Name: fmt.Sprintf("%s-c%05d", repo, i)})
		}
	case "manymounts":
		out = append(out, generated.SourceConfigDefinition{Name: "c"})
	case "bigconfigs":
		pad := strings.Repeat("x", 500_000)
		for i := range 7 {
			out = append(out, generated.SourceConfigDefinition{Name: fmt.Sprintf("%s-c%d-%s", repo, i, pad)})
		}
	}
	return out
}

// floodMounts is the mount specification of a dSource staged on the
// environment "manymounts": 500 mounts under its scratch path (each a
// link the engine makes on the host, or on an SSH host a copy of the
// whole storage, checked before every operation); ok is false elsewhere.
func floodMounts(staged sdk.StagedSource[generated.LinkedSourceDefinition]) (sdk.MountSpecification, bool) {
	env := staged.StagedConnection.Environment
	if env.Name != "manymounts" {
		return sdk.MountSpecification{}, false
	}
	var spec sdk.MountSpecification
	for i := range 500 {
		spec.Mounts = append(spec.Mounts, sdk.Mount{RemoteEnvironment: env, MountPath: path.Join(env.Host.ScratchPath, "mounts", fmt.Sprintf("m%03d", i))})
	}
	return spec, true
}
