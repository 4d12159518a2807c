// Environment discovery (docs/workflows.md, "Environments and the
// platform libraries"): the check that the engine can run commands on an
// environment, then each installed plugin's repository and source config
// discovery.

package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

// checkEnvironment connects to the environment and prepares its scratch
// path. An SSH environment's scratch path is found by the first check
// (its user's home is known only there, see sshScratchScript): the
// environment is returned with it.
func (e *Engine) checkEnvironment(ctx context.Context, j *jobs.Job, env engineapi.Environment) (engineapi.Environment, error) {
	x := exec.New(env)
	defer x.Close()
	req := pluginhost.BashRequest{Command: `mkdir -p "$DVP_SCRATCH" && uname -sn`, Variables: map[string]string{"DVP_SCRATCH": env.ScratchPath}}
	resolve := env.HostType == engineapi.HostSSH && env.ScratchPath == ""
	if resolve {
		req = pluginhost.BashRequest{Command: sshScratchScript, Variables: map[string]string{"DVP_ENGINE": e.cfg.EngineID, "DVP_REF": env.Reference}}
	}
	res, err := x.RunBash(ctx, req)
	if err != nil {
		msg := err.Error()
		var le *libs.LibraryError
		if errors.As(err, &le) {
			msg = le.Message
		}
		return env, failf(fmt.Sprintf("Check the host, port, user, key and known hosts of the environment, then refresh it with dvp environment refresh %s.", env.Name), "Cannot run commands on environment %s: %s", env.Name, msg)
	}
	if res.ExitCode != 0 {
		return env, failf("Check that the user can create the scratch directory.", "The environment check on %s failed (exit %d): %s", env.Name, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	answer := strings.TrimSpace(res.Stdout)
	if resolve {
		dir, rest, _ := strings.Cut(answer, "\n")
		if !path.IsAbs(dir) || path.Clean(dir) != dir || dir == "/" || strings.ContainsAny(dir, "\x00\r") {
			return env, failf("Check the home directory of the SSH user on the host.", "The environment check on %s did not find the SSH user's home directory (it answered %q).", env.Name, dir)
		}
		env.ScratchPath, answer = dir, strings.TrimSpace(rest)
	}
	j.Info("event.environment.checked", fmt.Sprintf("Environment %s answers: %s.", env.Name, answer))
	return env, nil
}

// sshScratchScript makes an SSH environment's scratch path in its user's
// home, private to that user (~/.dvp-scratch/<engine id>/<environment
// reference>, as a local environment's; never a shared place such as
// /tmp), and prints it on its first line.
const sshScratchScript = `set -e
umask 077
home=$(cd && pwd -P)
dir="$home/.dvp-scratch/$DVP_ENGINE/$DVP_REF"
mkdir -p "$dir"
printf '%s\n' "$dir"
uname -sn`

// discover runs environment discovery (docs/workflows.md, "Workflows")
// with every installed plugin: repositories, then the source configs of
// each.
func (e *Engine) discover(ctx context.Context, j *jobs.Job, env engineapi.Environment) error {
	tks, err := e.store.Toolkits(ctx)
	if err != nil {
		return err
	}
	if len(tks) == 0 {
		j.Info("event.environment.discovery.none", "No plugin is installed: nothing to discover.")
	}
	for i, t := range tks {
		if err := e.discoverWith(ctx, j, env, t); err != nil {
			return err
		}
		j.Progress(float64(i+1) * 90 / float64(len(tks)))
	}
	env.LastRefresh = store.FormatTime(e.cfg.Clock())
	env.Interrupted = nil // a discovery completed
	return e.store.PutObject(ctx, store.KindEnvironment, env.Reference, env.Name, &env, e.cfg.Clock())
}

// discoverWith runs one plugin's discovery on an environment: its
// repositories, and in each their source configs, merged by identity with
// what earlier discoveries found; then what vanished is removed.
func (e *Engine) discoverWith(ctx context.Context, j *jobs.Job, env engineapi.Environment, t *store.Toolkit) error {
	a, err := t.Artifact()
	if err != nil {
		return err
	}
	if !a.Manifest.HasRepositoryDiscovery {
		j.Info("event.environment.discovery.skipped", fmt.Sprintf("Plugin %q has no repository discovery.", a.Name))
		return nil
	}
	run, err := e.startPlugin(t, j)
	if err != nil {
		return err
	}
	defer run.Close()
	d := &discoveryRun{e: e, j: j, env: env, t: t, a: a, run: run, conn: connOf(env), now: e.cfg.Clock(),
		seen: map[string]bool{}, scDiscovered: map[string]bool{}}
	var repos []json.RawMessage
	if err := run.Call(ctx, "discovery.repository", map[string]any{"source_connection": d.conn}, &repos); err != nil {
		return err
	}
	if err := checkRepositoryCount(len(repos)); err != nil {
		return err
	}
	existing, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, env.Reference)
	if err != nil {
		return err
	}
	for _, raw := range repos {
		repo, err := d.repository(ctx, raw, existing)
		if err != nil {
			return err
		}
		if !a.Manifest.HasSourceConfigDiscovery {
			continue
		}
		if err := d.sourceConfigs(ctx, repo, raw); err != nil {
			return err
		}
	}
	return e.removeVanished(ctx, j, a.Name, t.Ref(), existing, d.seen, d.scDiscovered)
}

// discoveryRun is one plugin's discovery on an environment, and what it
// found so far.
type discoveryRun struct {
	e    *Engine
	j    *jobs.Job
	env  engineapi.Environment
	t    *store.Toolkit
	a    *artifact.Artifact
	run  *exec.Plugin
	conn sdk.RemoteConnection
	now  time.Time
	// seen are the repositories and source configs found;
	// scDiscovered the repositories whose source configs were discovered.
	seen, scDiscovered map[string]bool
	// scCount and scBytes are the source configs found so far and the
	// size of their JSON (discoverybounds.go).
	scCount, scBytes int
}

// repository checks a repository the plugin found (raw) and stores it:
// over the one of existing with its identity, else as a new one.
func (d *discoveryRun) repository(ctx context.Context, raw json.RawMessage, existing []engineapi.Repository) (*engineapi.Repository, error) {
	e, a, t := d.e, d.a, d.t
	if err := e.checkOutput(t, a, "discovery.repository", "repositoryDefinition", raw); err != nil {
		return nil, err
	}
	dd := a.DiscoveryDefinition
	id, name := identityKey(raw, dd.RepositoryIdentityFields), nameOf(raw, dd.RepositoryNameField)
	var repo *engineapi.Repository
	for i := range existing {
		if existing[i].Toolkit == t.Ref() && existing[i].Identity == id {
			repo = &existing[i]
		}
	}
	if repo != nil {
		repo.Parameters, repo.Name, repo.Missing = raw, name, false
		if err := e.store.PutObject(ctx, store.KindRepository, repo.Reference, name, repo, d.now); err != nil {
			return nil, err
		}
	} else {
		var r engineapi.Repository
		ref, err := e.store.CreateObject(ctx, store.KindRepository, d.env.Reference, false, d.now, func(ref string) (any, string) {
			r = engineapi.Repository{Type: "AppDataRepository", Reference: ref, Name: name, Environment: d.env.Reference, Toolkit: t.Ref(), Parameters: raw, Identity: id}
			return &r, name
		})
		if err != nil {
			return nil, err
		}
		r.Reference = ref
		repo = &r
	}
	d.seen[repo.Reference] = true
	d.j.Info("event.environment.repository", fmt.Sprintf("Plugin %q found repository %q (%s) on %s.", a.Name, eventName(name), repo.Reference, d.env.Name))
	return repo, nil
}

// sourceConfigs runs the plugin's source config discovery in a repository
// (raw, as the plugin found it) and stores what it finds: over the
// source config with its identity, else as a new, discovered one.
func (d *discoveryRun) sourceConfigs(ctx context.Context, repo *engineapi.Repository, raw json.RawMessage) error {
	e, a, t := d.e, d.a, d.t
	d.scDiscovered[repo.Reference] = true
	var scs []json.RawMessage
	if err := d.run.Call(ctx, "discovery.source_config", map[string]any{"source_connection": d.conn, "repository": raw}, &scs); err != nil {
		return err
	}
	size := 0
	for _, sraw := range scs {
		size += len(sraw)
	}
	if err := d.countSourceConfigs(repo.Name, len(scs), size); err != nil {
		return err
	}
	have, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
	if err != nil {
		return err
	}
	dd := a.DiscoveryDefinition
	for _, sraw := range scs {
		if err := e.checkOutput(t, a, "discovery.source_config", "sourceConfigDefinition", sraw); err != nil {
			return err
		}
		sid, sname := identityKey(sraw, dd.SourceConfigIdentityFields), nameOf(sraw, dd.SourceConfigNameField)
		var found *engineapi.SourceConfig
		for i := range have {
			if have[i].Identity == sid {
				found = &have[i]
			}
		}
		if found != nil {
			d.seen[found.Reference] = true
			found.Parameters, found.Name, found.Missing = sraw, sname, false
			if err := e.store.PutObject(ctx, store.KindSourceConfig, found.Reference, sname, found, d.now); err != nil {
				return err
			}
			continue
		}
		ref, err := e.store.CreateObject(ctx, store.KindSourceConfig, repo.Reference, false, d.now, func(ref string) (any, string) {
			return &engineapi.SourceConfig{Type: "AppDataSourceConfig", Reference: ref, Name: sname, Repository: repo.Reference, Environment: d.env.Reference,
				Toolkit: t.Ref(), Parameters: sraw, Identity: sid, Discovered: true}, sname
		})
		if err != nil {
			return err
		}
		d.seen[ref] = true
		d.j.Info("event.environment.sourceconfig", fmt.Sprintf("Plugin %q found source config %q (%s).", a.Name, eventName(sname), ref))
	}
	if len(scs) == 0 {
		d.j.Info("event.environment.sourceconfig.none", fmt.Sprintf("Plugin %q found no source config in %q (add them by hand).", a.Name, eventName(repo.Name)))
	}
	return nil
}

// removeVanished removes what the plugin's discovery found before and not
// this time: its repositories on the environment (with their source
// configs) and the discovered source configs of the repositories whose
// source configs it discovered. What a dSource or VDB uses is kept and
// marked missing instead; source configs added by hand or made by a VDB
// stay.
func (e *Engine) removeVanished(ctx context.Context, j *jobs.Job, plugin, toolkit string, repos []engineapi.Repository, seen, scDiscovered map[string]bool) error {
	cs, err := store.ListAs[engineapi.Container](ctx, e.store, store.KindContainer, "")
	if err != nil {
		return err
	}
	usersOf := func(match func(c *engineapi.Container) bool) []engineapi.Container {
		var out []engineapi.Container
		for i := range cs {
			if match(&cs[i]) {
				out = append(out, cs[i])
			}
		}
		return out
	}
	now := e.cfg.Clock()
	for _, repo := range repos {
		if repo.Toolkit != toolkit {
			continue
		}
		scs, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, repo.Reference)
		if err != nil {
			return err
		}
		if seen[repo.Reference] {
			if !scDiscovered[repo.Reference] {
				continue
			}
			for _, sc := range scs {
				if !sc.Discovered || sc.Container != "" || seen[sc.Reference] {
					continue
				}
				users := usersOf(func(c *engineapi.Container) bool { return c.SourceConfig == sc.Reference })
				if err := e.vanished(ctx, j, plugin, store.KindSourceConfig, sc.Reference, sc.Name, &sc, &sc.Missing, users, now); err != nil {
					return err
				}
			}
			continue
		}
		users := usersOf(func(c *engineapi.Container) bool {
			if c.Repository == repo.Reference {
				return true
			}
			for _, sc := range scs {
				if c.SourceConfig == sc.Reference {
					return true
				}
			}
			return false
		})
		if len(users) == 0 {
			for _, sc := range scs {
				if err := e.store.DeleteObject(ctx, store.KindSourceConfig, sc.Reference); err != nil {
					return err
				}
			}
		}
		if err := e.vanished(ctx, j, plugin, store.KindRepository, repo.Reference, repo.Name, &repo, &repo.Missing, users, now); err != nil {
			return err
		}
	}
	return nil
}

// vanished removes an object discovery no longer finds, or, while users
// use it, marks it missing.
func (e *Engine) vanished(ctx context.Context, j *jobs.Job, plugin, kind, ref, name string, obj any, missing *bool, users []engineapi.Container, now time.Time) error {
	what := objectNames[kind]
	if len(users) == 0 {
		if err := e.store.DeleteObject(ctx, kind, ref); err != nil {
			return err
		}
		j.Info("event.environment.removed", fmt.Sprintf("Plugin %q no longer finds the %s %q (%s): removed.", plugin, what, eventName(name), ref))
		return nil
	}
	*missing = true
	if err := e.store.PutObject(ctx, kind, ref, name, obj, now); err != nil {
		return err
	}
	j.Event("event.environment.missing", fmt.Sprintf("Plugin %q no longer finds the %s %q (%s): kept and marked missing, since %s use it.", plugin, what, eventName(name), ref, containerList(users)), nil, "WARNING", "RUNNING")
	return nil
}
