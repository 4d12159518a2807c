// Command staged is a well-behaved STAGED test plugin.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/runtime"
)

// Stand-ins for the types dvp generates from schema.json. The runtime
// decodes them as it decodes generated types (types.Unmarshal): a property
// of an input that a struct does not declare is refused, so they declare
// every property the tests' schemas give them.

type Repository struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Trail is what the repository migrations add: their ids, in the
	// order they ran.
	Trail []string `json:"trail,omitempty"`
}

type SourceConfig struct {
	Path    string   `json:"path"`
	Results []Result `json:"results,omitempty"`
	// The source config of the upgrade tests (internal/engine,
	// migrate_test.go): a password and its user, which a migration turns
	// into credentials.
	Password    string          `json:"password,omitempty"`
	User        string          `json:"user,omitempty"`
	Credentials json.RawMessage `json:"credentials,omitempty"`
}

type LinkedSource struct {
	MountLocation string          `json:"mountLocation"`
	ExtraMountRef string          `json:"extraMountRef,omitempty"`
	UID           *int            `json:"uid,omitempty"`
	Credentials   json.RawMessage `json:"credentials,omitempty"`
	// The secrets test's password (internal/engine, secrets_test.go) and
	// the upgrade tests' migrated property.
	DBPassword string `json:"dbPassword,omitempty"`
	BashError  string `json:"bashError,omitempty"`
}

type VirtualSource struct {
	MountLocation string `json:"mountLocation"`
	SharedPath    string `json:"sharedPath,omitempty"`
	Calls         []Call `json:"calls,omitempty"`
}

type Snapshot struct {
	Files       int    `json:"files"`
	Resync      bool   `json:"resync"`
	PolicyDrive bool   `json:"policyDriven"`
	User        string `json:"user,omitempty"`
}

type SnapshotParameters struct {
	Resync bool `json:"resync"`
}

// Call is one library call of the exerciser (virtual.initialize).
type Call struct {
	Lib       string            `json:"lib"`
	Command   string            `json:"command,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	Login     bool              `json:"login,omitempty"`
	Check     bool              `json:"check,omitempty"`
	Supplier  json.RawMessage   `json:"supplier,omitempty"`
	SourceDir string            `json:"sourceDir,omitempty"`
	Exclude   []string          `json:"exclude,omitempty"`
	Follow    []string          `json:"follow,omitempty"`
	Level     string            `json:"level,omitempty"`
	Message   string            `json:"message,omitempty"`
	Password  string            `json:"password,omitempty"`
	Username  string            `json:"username,omitempty"`
	NoEngine  bool              `json:"noEngine,omitempty"`
	EmptyConn bool              `json:"emptyConn,omitempty"`
}

// Result is what the exerciser reports for one call.
type Result struct {
	ExitCode  int             `json:"exitCode"`
	Stdout    string          `json:"stdout,omitempty"`
	Stderr    string          `json:"stderr,omitempty"`
	Error     string          `json:"error,omitempty"`
	ErrorType string          `json:"errorType,omitempty"`
	LibErrID  string          `json:"libErrId,omitempty"`
	CredsType string          `json:"credsType,omitempty"`
	Username  string          `json:"username,omitempty"`
	Secret    string          `json:"secret,omitempty"`
	Printed   string          `json:"printed,omitempty"`
	Supplier  json.RawMessage `json:"supplier,omitempty"`
}

type stagedSource = sdk.StagedSource[LinkedSource]
type virtualSource = sdk.VirtualSource[VirtualSource]

type discoverySCIn struct {
	SourceConnection sdk.RemoteConnection `json:"source_connection"`
	Repository       Repository           `json:"repository"`
}

type snapIn struct {
	StagedSource       stagedSource        `json:"staged_source"`
	Repository         Repository          `json:"repository"`
	SourceConfig       SourceConfig        `json:"source_config"`
	SnapshotParameters *SnapshotParameters `json:"snapshot_parameters"`
}

type linkedIn struct {
	StagedSource stagedSource `json:"staged_source"`
	Repository   Repository   `json:"repository"`
	SourceConfig SourceConfig `json:"source_config"`
}

type virtualIn struct {
	VirtualSource virtualSource `json:"virtual_source"`
	Repository    Repository    `json:"repository"`
	SourceConfig  SourceConfig  `json:"source_config"`
}

func main() {
	ops := map[string]runtime.Handler{
		"discovery.repository": runtime.Adapt(func(ctx context.Context, in struct {
			SourceConnection sdk.RemoteConnection `json:"source_connection"`
		}) ([]Repository, error) {
			res, err := libs.RunBash(ctx, in.SourceConnection, `printf '%s|%s' "$DVP_GREETING" "$(pwd)"`,
				libs.Variables(map[string]string{"DVP_GREETING": "hello"}), libs.Check())
			if err != nil {
				return nil, err
			}
			greeting, dir, _ := strings.Cut(res.Stdout, "|")
			return []Repository{{Name: "repo-" + greeting + "-" + in.SourceConnection.Environment.Name, Path: dir}}, nil
		}),
		"discovery.source_config": runtime.Adapt(func(ctx context.Context, in discoverySCIn) ([]SourceConfig, error) {
			res, err := libs.RunBash(ctx, in.SourceConnection, `ls -1 "$REPO"`,
				libs.Variables(map[string]string{"REPO": in.Repository.Path}), libs.Check())
			if err != nil {
				return nil, err
			}
			var out []SourceConfig
			for _, name := range strings.Fields(res.Stdout) {
				out = append(out, SourceConfig{Path: in.Repository.Path + "/" + name})
			}
			return out, nil
		}),
		"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
			StagedSource stagedSource `json:"staged_source"`
			Repository   Repository   `json:"repository"`
		}) (*sdk.MountSpecification, error) {
			p := in.StagedSource.Parameters
			spec := &sdk.MountSpecification{Mounts: []sdk.Mount{{
				RemoteEnvironment: in.StagedSource.StagedConnection.Environment,
				MountPath:         p.MountLocation,
			}}}
			if p.ExtraMountRef != "" {
				env, err := sdk.EnvironmentByReference(p.ExtraMountRef)
				if err != nil {
					return nil, &sdk.UserError{Message: err.Error(), Action: "Fix the extra mount reference."}
				}
				spec.Mounts = append(spec.Mounts, sdk.Mount{RemoteEnvironment: env, MountPath: p.MountLocation + "-extra", SharedPath: "/sub"})
			}
			if p.UID != nil {
				spec.OwnershipSpecification = &sdk.OwnershipSpecification{UID: *p.UID, GID: *p.UID}
			}
			return spec, nil
		}),
		"linked.pre_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (any, error) {
			if in.StagedSource.Mount == nil {
				return nil, &sdk.UserError{Message: "no staging mount"}
			}
			user := ""
			if len(in.StagedSource.Parameters.Credentials) > 0 {
				creds, err := libs.RetrieveCredentials(ctx, libs.RawSupplier(in.StagedSource.Parameters.Credentials))
				if err != nil {
					return nil, err
				}
				user = creds.CredentialsUsername()
				slog.InfoContext(ctx, "retrieved credentials", "creds", creds)
			}
			_, err := libs.RunBash(ctx, in.StagedSource.StagedConnection,
				`mkdir -p "$DEST" && cp -R "$SRC/." "$DEST/" && printf '%s' "$WHO" > "$DEST/.copied-by"`,
				libs.Variables(map[string]string{"SRC": in.SourceConfig.Path, "DEST": in.StagedSource.Mount.MountPath, "WHO": user}),
				libs.Check())
			var se *libs.PluginScriptError
			if errors.As(err, &se) {
				return nil, &sdk.UserError{Message: "Could not copy the files.", Action: "Check the source path.", Output: se.Error()}
			}
			return nil, err
		}),
		"linked.post_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (Snapshot, error) {
			res, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, `ls -1 "$DEST" | wc -l; cat "$DEST/.copied-by" 2>/dev/null`,
				libs.Variables(map[string]string{"DEST": in.StagedSource.Mount.MountPath}), libs.Check())
			if err != nil {
				return Snapshot{}, err
			}
			lines := strings.SplitN(res.Stdout, "\n", 2)
			n, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
			snap := Snapshot{Files: n, PolicyDrive: in.SnapshotParameters == nil}
			if len(lines) > 1 {
				snap.User = strings.TrimSpace(lines[1])
			}
			if in.SnapshotParameters != nil {
				snap.Resync = in.SnapshotParameters.Resync
			}
			return snap, nil
		}),
		"linked.start_staging": runtime.Adapt(func(ctx context.Context, in linkedIn) (any, error) {
			slog.InfoContext(ctx, "starting staging", "guid", in.StagedSource.GUID)
			return nil, nil
		}),
		"linked.stop_staging": runtime.Adapt(func(ctx context.Context, in linkedIn) (any, error) {
			slog.Warn("stopping staging without the operation's context", "guid", in.StagedSource.GUID)
			return nil, nil
		}),
		"linked.worker": runtime.Adapt(func(ctx context.Context, in linkedIn) (any, error) {
			slog.DebugContext(ctx, "worker ran", slog.Group("src", "guid", in.StagedSource.GUID))
			return nil, nil
		}),
		"linked.status": runtime.Adapt(func(ctx context.Context, in linkedIn) (sdk.Status, error) {
			res, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, `test -e "$DEST"`,
				libs.Variables(map[string]string{"DEST": in.StagedSource.Mount.MountPath}))
			if err != nil {
				return 0, err
			}
			if res.ExitCode == 0 {
				return sdk.StatusActive, nil
			}
			return sdk.StatusInactive, nil
		}),
		"linked.source_size": runtime.Adapt(func(ctx context.Context, in linkedIn) (int64, error) {
			res, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, `du -sb "$DEST" | cut -f1`,
				libs.Variables(map[string]string{"DEST": in.StagedSource.Mount.MountPath}), libs.Check())
			if err != nil {
				return 0, err
			}
			return strconv.ParseInt(strings.TrimSpace(res.Stdout), 10, 64)
		}),
		"virtual.configure": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
			Snapshot      Snapshot      `json:"snapshot"`
		}) (SourceConfig, error) {
			if len(in.VirtualSource.Mounts) == 0 {
				return SourceConfig{}, &sdk.UserError{Message: "no mounts"}
			}
			return SourceConfig{Path: fmt.Sprintf("%s#%d", in.VirtualSource.Mounts[0].MountPath, in.Snapshot.Files)}, nil
		}),
		"virtual.reconfigure": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
			SourceConfig  SourceConfig  `json:"source_config"`
			Snapshot      Snapshot      `json:"snapshot"`
		}) (SourceConfig, error) {
			return SourceConfig{Path: in.SourceConfig.Path + "+reconfigured"}, nil
		}),
		"virtual.unconfigure": runtime.Adapt(func(ctx context.Context, in virtualIn) (any, error) {
			slog.InfoContext(ctx, "unconfigure", "path", in.SourceConfig.Path)
			return "ignored", nil
		}),
		"virtual.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
		}) (sdk.MountSpecification, error) {
			return sdk.MountSpecification{Mounts: []sdk.Mount{{
				RemoteEnvironment: in.VirtualSource.Connection.Environment,
				MountPath:         in.VirtualSource.Parameters.MountLocation,
				SharedPath:        in.VirtualSource.Parameters.SharedPath,
			}}}, nil
		}),
		"virtual.post_snapshot": runtime.Adapt(func(ctx context.Context, in virtualIn) (Snapshot, error) {
			return Snapshot{Files: len(in.VirtualSource.Mounts)}, nil
		}),
		"virtual.status": runtime.Adapt(func(ctx context.Context, in virtualIn) (sdk.Status, error) {
			return sdk.StatusInactive, nil
		}),
		// virtual.initialize doubles as the library exerciser of the tests.
		"virtual.initialize": runtime.Adapt(func(ctx context.Context, in struct {
			VirtualSource virtualSource `json:"virtual_source"`
			Repository    Repository    `json:"repository"`
		}) (SourceConfig, error) {
			var out SourceConfig
			for _, c := range in.VirtualSource.Parameters.Calls {
				out.Results = append(out.Results, exercise(ctx, in.VirtualSource.Connection, c))
			}
			return out, nil
		}),
	}
	runtime.Main(&runtime.Plugin{
		Type:       runtime.Staged,
		Operations: ops,
		Migrations: migrations(),
	})
}

func exercise(ctx context.Context, conn sdk.RemoteConnection, c Call) Result {
	if c.NoEngine {
		ctx = context.Background()
	}
	if c.EmptyConn {
		conn = sdk.RemoteConnection{}
	}
	var opts []libs.RunOption
	if c.Variables != nil {
		opts = append(opts, libs.Variables(c.Variables))
	}
	if c.Login {
		opts = append(opts, libs.UseLoginShell())
	}
	if c.Check {
		opts = append(opts, libs.Check())
	}
	var r Result
	var res libs.RunResult
	var err error
	switch c.Lib {
	case "run_bash":
		res, err = libs.RunBash(ctx, conn, c.Command, opts...)
	case "run_expect":
		res, err = libs.RunExpect(ctx, conn, c.Command, opts...)
	case "run_powershell":
		res, err = libs.RunPowershell(ctx, conn, c.Command, opts...)
	case "run_sync":
		err = libs.RunSync(ctx, conn, c.SourceDir, c.Username, c.Exclude, c.Follow)
	case "retrieve_credentials":
		var creds sdk.Credentials
		creds, err = libs.RetrieveCredentials(ctx, libs.RawSupplier(c.Supplier))
		switch cr := creds.(type) {
		case sdk.PasswordCredentials:
			r.CredsType, r.Username, r.Secret = "password", cr.Username, cr.Password
		case sdk.KeyPairCredentials:
			r.CredsType, r.Username, r.Secret = "keypair", cr.Username, cr.PrivateKey+"|"+cr.PublicKey
		}
		if creds != nil {
			r.Printed = fmt.Sprintf("%v", creds)
		}
	case "upgrade_password":
		r.Supplier, err = libs.UpgradePassword(ctx, c.Password, c.Username)
	case "log":
		level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[c.Level]
		slog.Log(ctx, level, c.Message, "lib", "log")
	default:
		err = fmt.Errorf("unknown lib %q", c.Lib)
	}
	r.ExitCode, r.Stdout, r.Stderr = res.ExitCode, res.Stdout, res.Stderr
	if err != nil {
		r.Error = err.Error()
		r.ErrorType = fmt.Sprintf("%T", err)
		var le *libs.LibraryError
		if errors.As(err, &le) {
			r.LibErrID = le.ID
		}
	}
	return r
}

func migrations() []runtime.Migration {
	trail := func(id string) func(context.Context, map[string]any) (map[string]any, error) {
		return func(_ context.Context, obj map[string]any) (map[string]any, error) {
			t, _ := obj["trail"].([]any)
			obj["trail"] = append(t, id)
			return obj, nil
		}
	}
	return []runtime.Migration{
		{Kind: "repository", ID: "2019.10.04", Type: sdk.PlatformMigration, Name: "repoB", Func: runtime.MigrationFunc(trail("2019.10.04"))},
		{Kind: "repository", ID: "2019.04.01", Type: sdk.PlatformMigration, Name: "repoA", Func: runtime.MigrationFunc(trail("2019.04.01"))},
		{Kind: "repository", ID: "1.10", Type: sdk.LuaMigration, Name: "lua110", Func: runtime.MigrationFunc(trail("lua-1.10"))},
		{Kind: "repository", ID: "1.9", Type: sdk.LuaMigration, Name: "lua19", Func: runtime.MigrationFunc(trail("lua-1.9"))},
		{Kind: "repository", ID: "1.02", Type: sdk.LuaMigration, Name: "lua102", Func: runtime.MigrationFunc(trail("lua-1.02"))},
		{Kind: "source_config", ID: "2021.1.1", Type: sdk.PlatformMigration, Name: "scPassword",
			Func: runtime.MigrationFunc(func(ctx context.Context, obj map[string]any) (map[string]any, error) {
				pw, _ := obj["password"].(string)
				user, _ := obj["user"].(string)
				supplier, err := libs.UpgradePassword(ctx, pw, user)
				if err != nil {
					return nil, err
				}
				delete(obj, "password")
				obj["credentials"] = supplier
				return obj, nil
			})},
		{Kind: "linked_source", ID: "2020.1", Type: sdk.PlatformMigration, Name: "lsTriesBash",
			Func: runtime.MigrationFunc(func(ctx context.Context, obj map[string]any) (map[string]any, error) {
				_, err := libs.RunBash(ctx, sdk.RemoteConnection{Environment: sdk.RemoteEnvironment{Reference: "UNIX_HOST_ENVIRONMENT-1"}}, "true")
				var le *libs.LibraryError
				if errors.As(err, &le) {
					obj["bashError"] = le.ID
				}
				return obj, nil
			})},
		{Kind: "snapshot", ID: "2022.2.2", Type: sdk.PlatformMigration, Name: "snapFails",
			Func: func(_ context.Context, old json.RawMessage) (json.RawMessage, error) {
				var obj map[string]any
				_ = json.Unmarshal(old, &obj)
				if obj["fail"] == true {
					return nil, &sdk.UserError{Message: "cannot migrate this snapshot", Action: "Delete it."}
				}
				if obj["garbage"] == true {
					return json.RawMessage(`[1,2]`), nil
				}
				return old, nil
			}},
	}
}
