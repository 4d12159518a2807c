package dvptest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/upload"
)

// maxLogRead bounds how much of a plugin log a check reads.
const maxLogRead = 32 << 20

func (r *run) check(ctx context.Context, ch *Check) error {
	switch ch.Kind {
	case CheckSnapshots:
		snaps, err := r.client.ListSnapshots(ctx, ch.Of)
		if err != nil {
			return engineErr(err)
		}
		if len(snaps) != ch.Count {
			return fmt.Errorf("%s has %d snapshots, want %d", ch.Of, len(snaps), ch.Count)
		}
		return nil
	case CheckStatus:
		return r.checkStatus(ctx, ch)
	case CheckFile:
		return r.checkFile(ctx, ch)
	case CheckLog:
		return r.checkLog(ctx, ch)
	case CheckShell:
		sctx, cancel := context.WithTimeout(ctx, DefaultStepTimeout)
		defer cancel()
		res, err := r.shell(sctx, ch.Shell)
		if err != nil {
			return shellError(fmt.Sprintf("the command on %s (%s:%d)", ch.Shell.Environment, r.spec.File, ch.Shell.Line),
				"a shell check's command must end sooner; run a long command in the step's setup instead", ctx, sctx, DefaultStepTimeout, err)
		}
		if res.ExitCode != ch.Shell.Exit {
			return &detailError{msg: fmt.Sprintf("the command on %s exited %d, want %d", ch.Shell.Environment, res.ExitCode, ch.Shell.Exit), output: outputText(res.Stdout, res.Stderr)}
		}
		if ch.Shell.Output != nil && !ch.Shell.Output.MatchString(strings.TrimSuffix(res.Stdout, "\n")) {
			return &detailError{msg: fmt.Sprintf("the output of the command on %s does not match %q", ch.Shell.Environment, ch.Shell.Output.String()), output: outputText(res.Stdout, res.Stderr)}
		}
		return nil
	}
	return fmt.Errorf("unknown check %q", ch.Kind)
}

func (r *run) checkStatus(ctx context.Context, ch *Check) error {
	c, err := r.container(ctx, ch.Of)
	if err != nil {
		return err
	}
	if ch.Gone {
		if c != nil {
			return fmt.Errorf("%s still exists on the engine", ch.Of)
		}
		return nil
	}
	if c == nil {
		return fmt.Errorf("%s does not exist on the engine", ch.Of)
	}
	if ch.Runtime != "" {
		// The status operation asks the plugin, and records its answer.
		s, err := r.client.ContainerOp(ctx, ch.Of, "status", engineapi.ContainerOpParameters{})
		if err := r.await(ctx, s, err, 0); err != nil {
			return fmt.Errorf("the status of %s: %v", ch.Of, err)
		}
		if c, err = r.container(ctx, ch.Of); err != nil {
			return err
		} else if c == nil {
			return fmt.Errorf("%s does not exist on the engine", ch.Of)
		}
		if c.Runtime != ch.Runtime {
			return fmt.Errorf("%s is %s, want %s", ch.Of, c.Runtime, ch.Runtime)
		}
	}
	if ch.Enabled != nil && c.Enabled != *ch.Enabled {
		state := map[bool]string{true: "enabled", false: "disabled"}
		return fmt.Errorf("%s is %s, want %s", ch.Of, state[c.Enabled], state[*ch.Enabled])
	}
	return nil
}

func (r *run) checkFile(ctx context.Context, ch *Check) error {
	c, err := r.container(ctx, ch.Of)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("%s does not exist on the engine", ch.Of)
	}
	if len(c.Mounts) == 0 {
		return fmt.Errorf("%s has no mount", ch.Of)
	}
	m := c.Mounts[0]
	env, err := r.environment(ctx, m.Environment)
	if err != nil {
		return err
	}
	vars := map[string]string{"DVPTEST_FILE": strings.TrimRight(m.MountPath, "/") + "/" + strings.TrimLeft(ch.Path, "/")}
	where := fmt.Sprintf("%s on %s", vars["DVPTEST_FILE"], env.Name)
	switch {
	case ch.Absent:
		res, err := r.bash(ctx, *env, `[ ! -e "$DVPTEST_FILE" ] && [ ! -L "$DVPTEST_FILE" ]`, vars)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%s exists", where)
		}
		return nil
	case ch.Contains == "":
		res, err := r.bash(ctx, *env, `[ -e "$DVPTEST_FILE" ]`, vars)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%s does not exist", where)
		}
		return nil
	}
	res, err := r.bash(ctx, *env, `cat -- "$DVPTEST_FILE"`, vars)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &detailError{msg: fmt.Sprintf("cannot read %s", where), output: outputText("", res.Stderr)}
	}
	if !strings.Contains(res.Stdout, ch.Contains) {
		return &detailError{msg: fmt.Sprintf("%s does not contain %q", where, ch.Contains), output: "content:\n" + clip(res.Stdout, 2000)}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n..."
}

// checkLog downloads the plugin's log bundle (as dvp download-logs does)
// and looks for the text in one of its files.
func (r *run) checkLog(ctx context.Context, ch *Check) error {
	dir, err := os.MkdirTemp(r.dir, "logs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	up := &upload.Client{Engine: r.client}
	bundle, err := up.DownloadLogs(ctx, upload.DownloadLogsOptions{User: r.user, Password: r.pw, PluginID: r.art.PluginID,
		PluginName: r.art.Name, Directory: dir, EngineName: r.client.BaseURL().Host})
	if err != nil {
		return fmt.Errorf("cannot download the plugin's logs: %v", engineErr(err))
	}
	text, err := readBundleFile(bundle, ch.LogFile)
	if err != nil {
		return err
	}
	switch {
	case ch.Contains != "" && !strings.Contains(text, ch.Contains):
		return &detailError{msg: fmt.Sprintf("the plugin's %s has no line with %q", ch.LogFile, ch.Contains), output: lastLines(text, 10)}
	case ch.Matches != nil && !ch.Matches.MatchString(text):
		return &detailError{msg: fmt.Sprintf("the plugin's %s has nothing that matches %q", ch.LogFile, ch.Matches.String()), output: lastLines(text, 10)}
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "last lines:\n" + strings.Join(lines, "\n")
}

// readBundleFile returns the file of a log bundle with the base name
// (bounded: a bundle is the engine's answer).
func readBundleFile(bundle, name string) (string, error) {
	f, err := os.Open(bundle)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("the plugin's log bundle is not a gzip file: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", nil // the plugin has not logged there: an empty log
		}
		if err != nil {
			return "", fmt.Errorf("the plugin's log bundle cannot be read: %v", err)
		}
		if h.Typeflag == tar.TypeReg && path.Base(h.Name) == name {
			b, err := io.ReadAll(io.LimitReader(tr, maxLogRead))
			return string(b), err
		}
	}
}

// cleanupScenario deletes what a scenario made: dSources and VDBs (the
// newest first, so VDBs go before their dSources), source configs,
// environments. It returns what could not be deleted.
func (r *run) cleanupScenario(ctx context.Context, st *scenarioState) []string {
	if r.client == nil {
		return nil
	}
	var problems []string
	for i := len(st.containers) - 1; i >= 0; i-- {
		name := st.containers[i]
		c, err := r.container(ctx, name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot list %s: %v", name, err))
			continue
		}
		if c == nil {
			continue
		}
		s, err := r.client.ContainerOp(ctx, name, "delete", engineapi.ContainerOpParameters{})
		if err := r.await(ctx, s, err, DefaultCleanup); err != nil {
			problems = append(problems, fmt.Sprintf("cannot delete %s: %v", name, oneLine(err.Error())))
		}
	}
	for i := len(st.scs) - 1; i >= 0; i-- {
		s, err := r.client.DeleteSourceConfig(ctx, st.scs[i])
		if err := r.await(ctx, s, err, DefaultCleanup); err != nil {
			problems = append(problems, fmt.Sprintf("cannot delete the source config %s: %v", st.scs[i], oneLine(err.Error())))
		}
	}
	for i := len(st.envs) - 1; i >= 0; i-- {
		s, err := r.client.DeleteEnvironment(ctx, st.envs[i])
		if err := r.await(ctx, s, err, DefaultCleanup); err != nil {
			problems = append(problems, fmt.Sprintf("cannot delete the environment %s: %v", st.envs[i], oneLine(err.Error())))
		}
	}
	return problems
}

// cleanup ends the run: on the engine of -e, the plugin is deleted when
// the run installed it; the private engine stops, and a mount link that
// a failed delete left, pointing into the engine's data, is removed. (The
// temporary directory is removed by Run.)
func (r *run) cleanup(ctx context.Context) []string {
	var problems []string
	if r.engine == nil && r.newPlugin && r.client != nil && r.art != nil {
		tks, err := r.client.ListToolkits(ctx)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot list the plugins: %v", engineErr(err)))
		}
		for _, tk := range tks {
			if tk.Identifier == r.art.PluginID {
				s, err := r.client.DeleteToolkit(ctx, tk.Reference)
				if err := r.await(ctx, s, err, DefaultCleanup); err != nil {
					problems = append(problems, fmt.Sprintf("cannot delete the plugin %s: %v", r.art.Name, oneLine(err.Error())))
				}
			}
		}
	}
	if r.engine != nil {
		grace := engineStopGrace
		if d, ok := ctx.Deadline(); ok {
			grace = min(grace, max(time.Until(d), time.Second))
		}
		if err := r.engine.Stop(grace); err != nil {
			problems = append(problems, err.Error())
		}
		for _, m := range r.mounts {
			target, err := os.Readlink(m.path)
			if err != nil {
				continue
			}
			if fsutil.Within(r.engine.DataDir, target) {
				if err := os.Remove(m.path); err != nil {
					problems = append(problems, fmt.Sprintf("cannot remove the mount %s: %v", m.path, err))
				}
			}
		}
	}
	return problems
}
