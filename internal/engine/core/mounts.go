// Mount safety (docs/engine.md, "Mounts"): the rules a mount path of the
// plugin's mount specification must follow before the engine mounts
// anything there, the refusal of a path another container holds, and the
// check, before each plugin operation, that the local mounts are still the
// engine's. The file-system side is exec's (exec/mounts.go).

package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/sdk"
)

// localUser is who a local environment's commands run as.
type localUser struct {
	name   string // the user's name (the environment's user)
	osUser string // the --os-user, "" for the engine's own user
	home   string // where the environment's scratch path goes
}

// localUser finds the OS user of a local environment being added or
// updated (command names the dvp command in errors): osUser, or the
// engine's own user when it is "" (exec.LookupOSUser says which users an
// engine can use). Another user needs the sandbox (exec.OSUserNeedsSandbox).
func (e *Engine) localUser(osUser, command string) (localUser, error) {
	lu, err := lookupLocalUser(osUser, e.cfg.Home, command)
	if err == nil && lu.osUser != "" && e.runner.Sandbox == nil {
		return localUser{}, fmt.Errorf("%v (dvp environment %s --os-user)", exec.OSUserNeedsSandbox(lu.osUser), command)
	}
	return lu, err
}

func lookupLocalUser(osUser, home, command string) (localUser, error) {
	u, err := exec.LookupOSUser(osUser)
	if err != nil {
		return localUser{}, fmt.Errorf("%v (dvp environment %s --os-user)", err, command)
	}
	if u != nil {
		if !filepath.IsAbs(u.Home) || u.Home == "/" {
			return localUser{}, fmt.Errorf("the OS user %s has no home directory (%q) to hold the environment's scratch path: give a user with one (dvp environment %s --os-user)", u.Name, u.Home, command)
		}
		return localUser{name: u.Name, osUser: u.Name, home: u.Home}, nil
	}
	cur, err := user.Current()
	if err != nil {
		return localUser{}, err
	}
	if !filepath.IsAbs(home) || home == "/" {
		return localUser{}, fmt.Errorf("the engine's user %s has no home directory ($HOME) to hold the environment's scratch path: start the engine with HOME set", cur.Username)
	}
	return localUser{name: cur.Username, home: home}, nil
}

// localScratch is the scratch path of the local environment ref of the
// engine engineID (store.EngineID): a directory of its OS user's home,
// outside the engine's data directory (which the sandbox hides from the
// environment's commands), and apart from every other engine's (two
// engines on one machine both have an UNIX_HOST_ENVIRONMENT-1). The
// scaffold's plugins mount under it (docs/plugin-project.md).
func localScratch(home, engineID, ref string) string {
	return filepath.Join(home, LocalScratchDir, engineID, ref)
}

// LocalScratchDir is the directory of the user's home that holds the
// scratch paths of local environments.
const LocalScratchDir = ".dvp-scratch"

// MoveLocalScratchPaths runs at start-up: a local environment added by an
// older engine has its scratch path in the data directory, where the
// sandbox hides it from the environment's commands and where no mount may
// go; it moves to the OS user's home (localScratch). It returns how many
// environments changed.
func (e *Engine) MoveLocalScratchPaths(ctx context.Context) (int, error) {
	envs, err := store.ListAs[engineapi.Environment](ctx, e.store, store.KindEnvironment, "")
	if err != nil {
		return 0, err
	}
	data, _ := filepath.Abs(e.cfg.DataDir)
	n := 0
	for _, env := range envs {
		if env.HostType != engineapi.HostLocal || !exec.Nested(filepath.Clean(env.ScratchPath), data) {
			continue
		}
		home := ""
		if u, err := exec.LookupOSUser(env.OSUser); err == nil && u != nil {
			home = u.Home
		} else if err == nil {
			home = e.cfg.Home
		}
		if !filepath.IsAbs(home) || home == "/" {
			continue // left as it was; environment add says why for new ones
		}
		env.ScratchPath = localScratch(home, e.cfg.EngineID, env.Reference)
		if err := e.store.PutObject(ctx, store.KindEnvironment, env.Reference, env.Name, &env, e.cfg.Clock()); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sharedStorage makes (if needed) and returns the directory of a mount's
// shared path in the container's storage. It is made through a
// descriptor of the storage that follows no link out of it: the
// environment's commands write the storage, links included, and the
// engine may run as root.
func sharedStorage(storage, shared string) (string, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+shared), "/")
	dir := filepath.Join(storage, rel)
	if rel == "" {
		return dir, nil
	}
	root, err := os.OpenRoot(storage)
	if err != nil {
		return "", err
	}
	defer root.Close()
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return "", fmt.Errorf("making the shared path %s of the storage: %w", shared, err)
	}
	return dir, nil
}

// mountHost names the host of an environment: two mounts on one host
// cannot share a path. Every local environment is this host.
func mountHost(env engineapi.Environment) string {
	if env.HostType == engineapi.HostLocal {
		return "local"
	}
	return fmt.Sprintf("ssh:%s:%d", strings.ToLower(env.Host), env.Port)
}

// mountRules are the path rules of mounts on the local environment env.
func (e *Engine) mountRules(env engineapi.Environment) (exec.MountPathRules, error) {
	r := exec.MountPathRules{EngineDirs: append([]string(nil), e.runner.Hidden...)}
	if abs, err := filepath.Abs(e.cfg.DataDir); err == nil {
		r.EngineDirs = append(r.EngineDirs, abs)
	}
	if home := e.cfg.Home; filepath.IsAbs(home) {
		r.Homes = append(r.Homes, home)
		r.EngineDirs = append(r.EngineDirs, filepath.Join(home, ".dvp"))
	}
	u, err := exec.LookupOSUser(env.OSUser)
	if err != nil {
		return r, err
	}
	if u != nil && filepath.IsAbs(u.Home) {
		r.Homes = append(r.Homes, u.Home)
		r.EngineDirs = append(r.EngineDirs, filepath.Join(u.Home, ".dvp"))
	}
	if env.ScratchPath != "" {
		r.Suggest = filepath.Join(env.ScratchPath, "dlpx_staged_mounts")
		if _, err := (exec.MountPathRules{EngineDirs: r.EngineDirs}).Check(r.Suggest); err != nil {
			r.Suggest = ""
		}
	}
	if r.Suggest == "" && len(r.Homes) > 0 {
		r.Suggest = r.Homes[len(r.Homes)-1]
	}
	return r, nil
}

// mountRefused is a refused mount as the job's failure.
func (w *wf) mountRefused(env engineapi.Environment, path string, err error) error {
	action := "Choose another mount location in the plugin's parameters."
	var me *exec.MountError
	if errors.As(err, &me) && me.Action != "" {
		action = me.Action
	}
	return failf(action, "Cannot mount the storage of %s at %s on %s: %v", w.c.Name, path, env.Name, err)
}

// MaxMounts bounds the mounts of one mount specification: a plugin could
// otherwise list thousands, each a link made on the host (or a copy of the
// storage made on an SSH host) and checked before every operation.
const MaxMounts = 64

// checkMounts refuses a mount specification before anything is mounted:
// a local mount path that breaks a rule of exec.MountPathRules, two mounts
// of the specification on one path (or one inside the other), or a path
// that another dSource or VDB holds on the same host (named).
func (w *wf) checkMounts(ctx context.Context, mounts []sdk.Mount) error {
	if len(mounts) > MaxMounts {
		kind := containerNames[w.c.ContainerType]
		return failf("Return at most "+strconv.Itoa(MaxMounts)+" mounts from the plugin's mount specification (a dataset needs one, and one for each further path it is shared at).",
			"Cannot mount the storage of %s: the mount specification holds %d mounts: the engine makes at most %d for one dSource or VDB (each is a link on the host, or a copy of the storage on an SSH host, checked before each operation of the %s). Nothing was mounted.",
			w.c.Name, len(mounts), MaxMounts, kind)
	}
	type held struct {
		host, path string
	}
	var mine []held
	for _, m := range mounts {
		env, err := w.env(ctx, m.RemoteEnvironment.Reference)
		if err != nil {
			return err
		}
		p := filepath.Clean(m.MountPath)
		if env.HostType == engineapi.HostLocal {
			rules, err := w.e.mountRules(env)
			if err != nil {
				return w.mountRefused(env, m.MountPath, &exec.MountError{Message: err.Error(), Action: "Fix the environment's OS user (dvp environment add --os-user), or run the engine as root."})
			}
			if p, err = rules.Check(m.MountPath); err != nil {
				return w.mountRefused(env, m.MountPath, &exec.MountError{Message: err.Error(), Action: "Choose another mount location in the plugin's parameters (the Mounts part of dvp help local-engine lists the rules)."})
			}
		}
		for _, o := range mine {
			if o.host == mountHost(env) && exec.Nested(o.path, p) {
				return w.mountRefused(env, m.MountPath, &exec.MountError{Message: fmt.Sprintf("the plugin's mount specification mounts at %s and at %s, one inside the other", o.path, p), Action: "Give each mount a path of its own."})
			}
		}
		mine = append(mine, held{host: mountHost(env), path: p})
	}
	others, err := store.ListAs[engineapi.Container](ctx, w.e.store, store.KindContainer, "")
	if err != nil {
		return err
	}
	for _, c := range others {
		if c.Reference == w.c.Reference {
			continue
		}
		for _, m := range c.Mounts {
			env, err := w.env(ctx, m.Environment)
			if err != nil {
				continue // an environment gone: nothing mounted there
			}
			for _, o := range mine {
				if o.host != mountHost(env) || !exec.Nested(o.path, filepath.Clean(m.MountPath)) {
					continue
				}
				how := "it is the mount path"
				if o.path != filepath.Clean(m.MountPath) {
					how = "it is inside, or holds, the mount path " + m.MountPath
				}
				kind := containerNames[c.ContainerType]
				return w.mountRefused(env, o.path, &exec.MountError{
					Message: fmt.Sprintf("%s of the %s %s (%s) on %s; two dSources or VDBs never share a mount path", how, kind, c.Name, c.Reference, env.Name),
					Action:  fmt.Sprintf("Choose another mount location in the parameters, or delete the %s %s first (dvp %s delete %s).", kind, c.Name, strings.ToLower(kind), c.Name)})
			}
		}
	}
	return nil
}

// teardownOps run when a container is being stopped, disabled or
// deleted: a mount that is gone does not stop them (a replaced one does).
var teardownOps = map[string]bool{"virtual.unconfigure": true, "virtual.cleanup": true, "virtual.stop": true, "linked.stop_staging": true}

// verifyMounts runs before each plugin operation of a container's job: a
// local mount that is no longer the engine's link to the storage fails
// the operation before it runs. The mount specification operations, which
// get no mounts, are not checked.
func (w *wf) verifyMounts(ctx context.Context, op string) error {
	if strings.HasSuffix(op, ".mount_specification") {
		return nil
	}
	for _, m := range w.c.Mounts {
		x, _, err := w.exec(ctx, m.Environment)
		if err != nil {
			return err
		}
		if err := x.Verify(ctx, w.storageOf(m), m.MountPath, m.Method, teardownOps[op]); err != nil {
			action := "Mount it again: sync the dSource, or start the VDB."
			var me *exec.MountError
			if errors.As(err, &me) && me.Action != "" {
				action = me.Action
			}
			return failf(action, "Did not run %s() on %s: %v.", op, w.c.Name, err)
		}
	}
	return nil
}
