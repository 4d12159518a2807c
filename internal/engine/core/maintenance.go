// Object maintenance (docs/workflows.md, "Correcting objects"): updating
// and deleting environments and source configs, each refused, naming the
// dSources and VDBs concerned, when the change would orphan them.

package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// problemLines renders problems one per line as "POINTER: message
// (hint)", "(root)" for the document itself.
func problemLines(ps diag.List) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = problemLine(p)
	}
	return strings.Join(lines, "\n")
}

// problemLine is one line of problemLines.
func problemLine(p diag.Problem) string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "(root)"
	}
	line := ptr + ": " + p.Message
	if p.Hint != "" {
		line += " (" + p.Hint + ")"
	}
	return line
}

// problemsErr is a refusal (HTTP 400, exception.validation.parameters)
// listing problems under a heading.
func problemsErr(heading string, ps diag.List, action string) error {
	return newErr(Invalid, "exception.validation.parameters", heading+"\n"+problemLines(ps), action)
}

// sshProblems checks the SSH settings of an environment as `dvp
// environment <command>` gives them.
func sshProblems(env engineapi.Environment, command string) diag.List {
	var ps diag.List
	add := func(ptr, hint, format string, args ...any) {
		ps = append(ps, diag.Problem{Pointer: ptr, Severity: diag.Error, Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	flag := func(f string) string { return "dvp environment " + command + " " + f }
	if env.Host == "" {
		add("/host", flag("--host HOST"), "an SSH environment needs a host")
	}
	if env.User == "" {
		add("/user", flag("--ssh-user USER")+", or --host USER@HOST", "an SSH environment needs a user")
	}
	if env.Port < 1 || env.Port > 65535 {
		add("/port", flag("--port"), "%d is not a TCP port", env.Port)
	}
	if !filepath.IsAbs(env.SSHKeyFile) {
		add("/sshKeyFile", flag("--ssh-key FILE"), "give the absolute path of the private key file the engine logs in with")
	} else if _, err := os.Stat(env.SSHKeyFile); err != nil {
		add("/sshKeyFile", flag("--ssh-key FILE"), "the engine cannot read %s: %v", env.SSHKeyFile, err)
	}
	if !env.InsecureIgnoreHostKey {
		if env.KnownHostsFile != "" && !filepath.IsAbs(env.KnownHostsFile) {
			add("/knownHostsFile", flag("--known-hosts FILE"), "give an absolute path")
		} else if _, err := os.Stat(exec.KnownHostsFile(env)); err != nil {
			add("/knownHostsFile", "give the known_hosts file with "+flag("--known-hosts FILE")+", or, for a test host only, --insecure-ignore-host-key",
				"the engine cannot read %s to verify the host key: %v", exec.KnownHostsFile(env), err)
		}
	}
	return ps
}

// containersUsing lists the dSources and VDBs for which use is true.
func (e *Engine) containersUsing(ctx context.Context, use func(c *engineapi.Container) bool) ([]engineapi.Container, error) {
	cs, err := store.ListAs[engineapi.Container](ctx, e.store, store.KindContainer, "")
	if err != nil {
		return nil, err
	}
	var out []engineapi.Container
	for i := range cs {
		if use(&cs[i]) {
			out = append(out, cs[i])
		}
	}
	return out, nil
}

// containersOn lists the dSources and VDBs that run on the environment ref
// (usesEnvironment).
func (e *Engine) containersOn(ctx context.Context, ref string) ([]engineapi.Container, error) {
	return e.containersUsing(ctx, func(c *engineapi.Container) bool { return usesEnvironment(c, ref) })
}

// usesEnvironment reports whether a container runs on an environment:
// staging, source or target, or a mount there.
func usesEnvironment(c *engineapi.Container, env string) bool {
	if c.Environment == env || c.SourceEnv == env {
		return true
	}
	for _, m := range c.Mounts {
		if m.Environment == env {
			return true
		}
	}
	return false
}

// containerList names containers as "dSource ds1, VDB vdb1".
func containerList(cs []engineapi.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = containerNames[c.ContainerType] + " " + c.Name
	}
	return strings.Join(names, ", ")
}

// deleteFirst is the action of a refusal because of cs: delete them first.
func deleteFirst(cs []engineapi.Container) string {
	cmds := make([]string, len(cs))
	for i, c := range cs {
		cmds[i] = fmt.Sprintf("dvp %s delete %s", strings.ToLower(containerNames[c.ContainerType]), c.Name)
	}
	return "Delete them first (" + strings.Join(cmds, "; ") + ")."
}

// UpdateEnvironment changes the SSH settings of an environment, or the OS
// user of a local one: a job checks the host with the new settings and
// keeps them only when it answers; a new host or user is discovered again.
// A new host or user is refused while a dSource or VDB uses the
// environment (its data and mounts are on the old one, or the old user's).
func (e *Engine) UpdateEnvironment(ctx context.Context, caller Caller, ref string, p engineapi.EnvironmentUpdateParameters) (Started, error) {
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", ref, &env); err != nil {
		return Started{}, err
	}
	if env.HostType != engineapi.HostSSH {
		if p.Host != nil || p.Port != nil || p.User != nil || p.SSHKeyFile != nil || p.KnownHostsFile != nil || p.InsecureIgnoreHostKey != nil {
			return Started{}, badRequest(fmt.Sprintf("The environment %q is this host (--local): it has no host, port, user, key or known hosts to change.", env.Name),
				"Change its OS user (dvp environment update NAME --os-user USER), update an SSH environment, or add another environment.")
		}
		return e.updateLocalEnvironment(ctx, caller, env, p)
	}
	if p.OSUser != nil {
		return Started{}, badRequest(fmt.Sprintf("The environment %q is an SSH host: its commands run as its SSH user, not as an OS user of this host.", env.Name),
			"Change the SSH user with --ssh-user, or leave --os-user out.")
	}
	if p.Host == nil && p.Port == nil && p.User == nil && p.SSHKeyFile == nil && p.KnownHostsFile == nil && p.InsecureIgnoreHostKey == nil {
		return Started{}, badRequest(fmt.Sprintf("Nothing to change in the environment %q.", env.Name),
			"Give what changes: dvp environment update NAME --host, --port, --ssh-user, --ssh-key, --known-hosts or --insecure-ignore-host-key.")
	}
	next := env
	var changed []string
	set := func(what string, dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = *v
			changed = append(changed, what)
		}
	}
	set("host", &next.Host, p.Host)
	set("user", &next.User, p.User)
	set("SSH key", &next.SSHKeyFile, p.SSHKeyFile)
	if p.Port != nil && *p.Port != next.Port {
		next.Port = *p.Port
		changed = append(changed, "port")
	}
	if p.InsecureIgnoreHostKey != nil && *p.InsecureIgnoreHostKey != next.InsecureIgnoreHostKey {
		next.InsecureIgnoreHostKey = *p.InsecureIgnoreHostKey
		changed = append(changed, "host key check")
	}
	if next.InsecureIgnoreHostKey {
		next.KnownHostsFile = ""
	} else {
		set("known hosts", &next.KnownHostsFile, p.KnownHostsFile)
	}
	if ps := sshProblems(next, "update"); len(ps) > 0 {
		return Started{}, problemsErr(fmt.Sprintf("The environment %q cannot be updated: %d problem(s):", env.Name, len(ps)), ps,
			"Fix what is listed (the dvp environment update flags are in parentheses), then update the environment again.")
	}
	moved := next.Host != env.Host || next.User != env.User
	if moved {
		// The new host or user has its own home: the check finds the
		// scratch path there.
		next.ScratchPath = ""
		users, err := e.containersOn(ctx, env.Reference)
		if err != nil {
			return Started{}, internalErr(err)
		}
		if len(users) > 0 {
			return Started{}, conflict(fmt.Sprintf("The host or user of the environment %q cannot change: %s run on it (their data and mounts are on %s@%s).", env.Name, containerList(users), env.User, env.Host),
				deleteFirst(users)+" Or add the new host as another environment (dvp environment add).")
		}
	}
	return e.startEnvironmentUpdate(caller, env, next, envUpdate{changed: len(changed) > 0, rediscover: moved,
		unchanged: fmt.Sprintf("The settings of %s are already those.", env.Name),
		updated:   fmt.Sprintf("Updated the %s of %s.", strings.Join(changed, ", "), env.Name)})
}

// updateLocalEnvironment changes the OS user of a local environment
// (--os-user; "" is the engine's own user): its scratch path moves to the
// new user's home. Refused while a dSource or VDB uses the environment:
// its mounts and storage were given to the old user.
func (e *Engine) updateLocalEnvironment(ctx context.Context, caller Caller, env engineapi.Environment, p engineapi.EnvironmentUpdateParameters) (Started, error) {
	if p.OSUser == nil {
		return Started{}, badRequest(fmt.Sprintf("Nothing to change in the environment %q.", env.Name),
			"Give what changes: dvp environment update NAME --os-user USER (--os-user '' for the engine's own user).")
	}
	local, err := e.localUser(*p.OSUser, "update")
	if err != nil {
		return Started{}, problemsErr(fmt.Sprintf("The environment %q cannot be updated: 1 problem(s):", env.Name),
			diag.List{{Pointer: "/osUser", Severity: diag.Error, Message: err.Error()}},
			"Fix what is listed (the dvp environment update flags are in parentheses), then update the environment again.")
	}
	next := env
	next.User, next.OSUser = local.name, local.osUser
	changed := next.OSUser != env.OSUser || next.User != env.User
	if changed {
		users, err := e.containersOn(ctx, env.Reference)
		if err != nil {
			return Started{}, internalErr(err)
		}
		if len(users) > 0 {
			return Started{}, conflict(fmt.Sprintf("The OS user of the environment %q cannot change: it is used by %s (their mounts and storage were given to %s).", env.Name, containerList(users), env.User),
				deleteFirst(users)+" Or add another local environment with that OS user (dvp environment add --local --os-user).")
		}
		next.ScratchPath = localScratch(local.home, e.cfg.EngineID, env.Reference)
	}
	return e.startEnvironmentUpdate(caller, env, next, envUpdate{changed: changed, rediscover: true,
		unchanged: fmt.Sprintf("The commands of %s already run as %s.", env.Name, env.User),
		updated:   fmt.Sprintf("The commands of %s run as %s from now on.", env.Name, next.User)})
}

// envUpdate is what an environment update changes, and what its job says.
type envUpdate struct {
	changed    bool   // false: the job only records unchanged
	unchanged  string // the event when nothing changes
	updated    string // the event once the new settings are stored
	rediscover bool   // discover the environment again once they are
}

// startEnvironmentUpdate starts the job of an environment update: the
// stored environment becomes next only once the environment's check passes
// with next's settings (the new host answers; commands run as the new user,
// who makes the new scratch path), then discovery runs again when
// u.rediscover.
func (e *Engine) startEnvironmentUpdate(caller Caller, env, next engineapi.Environment, u envUpdate) (Started, error) {
	return e.startJob(caller, "ENVIRONMENT_UPDATE", fmt.Sprintf("Update environment %q", env.Name), env.Reference, env.Name, env.Reference, env.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			if !u.changed {
				j.Info("event.environment.unchanged", u.unchanged)
				return nil
			}
			next, err := e.checkEnvironment(ctx, j, next)
			if err != nil {
				return err
			}
			if err := e.store.PutObject(ctx, store.KindEnvironment, env.Reference, env.Name, &next, e.cfg.Clock()); err != nil {
				return err
			}
			j.Info("event.environment.updated", u.updated)
			if !u.rediscover {
				return nil
			}
			j.Progress(10)
			return e.discover(ctx, j, next)
		})
}

// UpdateSourceConfig replaces the parameters of a source config added by
// hand, validated against the plugin's sourceConfigDefinition. Discovered
// source configs belong to discovery and a VDB's to its configure; a
// change of the identity fields is refused while a dSource is linked to
// it.
func (e *Engine) UpdateSourceConfig(ctx context.Context, ref string, p engineapi.SourceConfigUpdateParameters) error {
	var sc engineapi.SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", ref, &sc); err != nil {
		return err
	}
	if sc.Container != "" {
		return conflict(fmt.Sprintf("The source config %q is the VDB %s's: its configure operation writes it.", sc.Name, sc.Container), "Refresh or reconfigure the VDB instead.")
	}
	if sc.Discovered {
		return conflict(fmt.Sprintf("The source config %q was discovered: the next discovery would replace what you change.", sc.Name),
			"Change it where the plugin discovers it, then run dvp environment refresh; or add a source config by hand (dvp source-config add).")
	}
	t, a, aerr := e.toolkitOf(ctx, sc.Toolkit)
	if aerr != nil {
		return aerr
	}
	if aerr := e.validateParams(t, a, "sourceConfigDefinition", "source config parameters", p.Parameters); aerr != nil {
		return aerr
	}
	dd := a.DiscoveryDefinition
	id := identityKey(p.Parameters, dd.SourceConfigIdentityFields)
	if id != sc.Identity {
		users, err := e.containersUsing(ctx, func(c *engineapi.Container) bool { return c.SourceConfig == sc.Reference })
		if err != nil {
			return internalErr(err)
		}
		if len(users) > 0 {
			return conflict(fmt.Sprintf("The identity of the source config %q (%s) cannot change: %s is linked to it.", sc.Name, strings.Join(dd.SourceConfigIdentityFields, ", "), containerList(users)),
				deleteFirst(users)+" Or add the corrected source config as another one (dvp source-config add).")
		}
		have, err := store.ListAs[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig, sc.Repository)
		if err != nil {
			return internalErr(err)
		}
		for _, o := range have {
			if o.Reference != sc.Reference && o.Identity == id {
				return conflict(fmt.Sprintf("The source config %q (%s) has that identity already (%s: %s).", o.Name, o.Reference, strings.Join(dd.SourceConfigIdentityFields, ", "), id),
					"Use the existing source config, or change the identity fields.")
			}
		}
	}
	compact, err := compactJSON(p.Parameters)
	if err != nil {
		return badRequest("The parameters are not JSON: "+err.Error()+".", "Give a JSON object.")
	}
	sc.Parameters, sc.Identity = compact, id
	if err := e.store.PutObject(ctx, store.KindSourceConfig, sc.Reference, sc.Name, &sc, e.cfg.Clock()); err != nil {
		return internalErr(err)
	}
	return nil
}

// sourceConfigUsers refuses to delete a source config that dSources or
// VDBs use, naming them.
func (e *Engine) sourceConfigUsers(ctx context.Context, sc *engineapi.SourceConfig) error {
	users, err := e.containersUsing(ctx, func(c *engineapi.Container) bool { return c.SourceConfig == sc.Reference })
	if err != nil {
		return internalErr(err)
	}
	if len(users) > 0 {
		return conflict(fmt.Sprintf("The source config %q is used by %s.", sc.Name, containerList(users)), deleteFirst(users))
	}
	return nil
}
