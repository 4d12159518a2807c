// Command plugin_runner is hostile, a STAGED plugin used by the end-to-end
// sandbox test (internal/engine/e2e): its repository discovery tries every
// escape from the engine's sandbox (docs/engine.md, "Sandbox") — in its own
// process and through run_bash on the environment — and reports each
// outcome as the name of a repository ("attempt=outcome"). On an
// environment named "control" it only tries the cheap escapes (the test's
// run without a sandbox shows that they do succeed there); on "memory" and
// "bigmessage" only the attacks on the engine's memory (memory.go); on
// "quiet", "manyrepos", "manyconfigs" and "bigconfigs" only the floods of
// its discovery (flood.go); on "crossenv" only the library calls on other
// environments (crossenv.go); on "secrets" only the secrets it makes the
// engine keep (secrets.go); elsewhere it also forks without bound, allocates without bound and logs
// 300 MB.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"hostile/generated"
)

var plugin = generated.Plugin{
	Discovery: generated.DiscoveryOperations{
		Repository:   repositoryDiscovery,
		SourceConfig: sourceConfigDiscovery,
	},
	Linked: generated.LinkedOperations{
		PostSnapshot:       linkedPostSnapshot,
		MountSpecification: linkedMountSpecification,
	},
	Virtual: generated.VirtualOperations{
		Configure:          configure,
		Reconfigure:        reconfigure,
		PostSnapshot:       virtualPostSnapshot,
		MountSpecification: virtualMountSpecification,
	},
}

// Marker is the sleep duration of the processes that try to outlive the
// operation; the test looks for it.
const Marker = "3141.59265"

// allocCap bounds the allocation attempt (so that a run without a sandbox
// does not take the machine down): reaching it means "not refused".
const allocCap = 1 << 30

func main() {
	if len(os.Args) == 2 && os.Args[1] == "alloc" {
		allocate()
		return
	}
	plugin.Main()
}

// allocate allocates and touches 16 MiB chunks up to allocCap.
func allocate() {
	var keep [][]byte
	for n := 16 << 20; n <= allocCap; n += 16 << 20 {
		b := make([]byte, 16<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
		fmt.Printf("%d\n", n>>20)
	}
	fmt.Printf("all %d chunks\n", len(keep))
}

type report []generated.RepositoryDefinition

func (r *report) add(attempt, outcome string) {
	*r = append(*r, generated.RepositoryDefinition{Name: types.Ptr(attempt + "=" + outcome)})
}

// dataDirs are the directories the engine's data may be in: the parent
// and grandparent of the plugin's working directory (its work directory is
// <data>/plugin-work/<id>), and ~/.dvp.
func dataDirs() []string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, filepath.Dir(wd), filepath.Dir(filepath.Dir(wd)))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".dvp"), filepath.Join(home, ".dvp", "logs"))
	}
	return dirs
}

func leaked(ok bool) string {
	if ok {
		return "LEAKED"
	}
	return "refused"
}

func repositoryDiscovery(ctx context.Context, conn sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
	if r, ok := memoryAttack(ctx, conn); ok {
		return r, nil
	}
	if r, ok := floodRepositories(conn); ok {
		return r, nil
	}
	if r, ok := crossAttack(ctx, conn); ok {
		return r, nil
	}
	if r, ok := secretsAttack(ctx, conn); ok {
		return r, nil
	}
	control := conn.Environment.Name == "control"
	var r report
	wd, _ := os.Getwd()
	r.add("workdir", wd)

	r.add("env", leaked(os.Getenv("DVP_ENGINE_ADMIN_PASSWORD") != ""))
	r.add("procenv", leaked(procEnvironHas("DVP_ENGINE_ADMIN_PASSWORD=")))
	var secrets, db, blobs, otherLogs, write bool
	for _, d := range dataDirs() {
		if b, err := os.ReadFile(filepath.Join(d, "secrets.key")); err == nil && len(b) > 0 {
			secrets = true
		}
		if b, err := os.ReadFile(filepath.Join(d, "debug.log")); err == nil && len(b) > 0 {
			secrets = true // the engine user's own log
		}
		if f, err := os.Open(filepath.Join(d, "engine.db")); err == nil {
			buf := make([]byte, 16)
			if n, _ := f.Read(buf); n > 0 {
				db = true
			}
			f.Close()
		}
		if ents, err := os.ReadDir(filepath.Join(d, "blobs", "sha256")); err == nil && len(ents) > 0 {
			blobs = true
		}
		if ents, err := os.ReadDir(filepath.Join(d, "plugin-logs")); err == nil {
			for _, e := range ents {
				if !strings.HasPrefix(wd, filepath.Join(d, "plugin-logs", e.Name())) {
					otherLogs = true
				}
			}
		}
		if err := os.WriteFile(filepath.Join(d, "planted-by-plugin"), []byte("x"), 0o644); err == nil {
			write = true
		}
	}
	r.add("secrets.key", leaked(secrets))
	r.add("engine.db", leaked(db))
	r.add("blobs", leaked(blobs))
	r.add("other-plugin-logs", leaked(otherLogs))
	r.add("write-data-dir", leaked(write))
	// The admin password file the engine was started with, outside its
	// directories (the test puts it in the engine user's home).
	home, _ := os.UserHomeDir()
	pw, err := os.ReadFile(filepath.Join(home, "engine-password"))
	r.add("password-file", leaked(err == nil && len(pw) > 0))
	// A hard link to it that the test made next to it: hiding a file by
	// its path does not hide its other links.
	pw, err = os.ReadFile(filepath.Join(home, "engine-password.link"))
	r.add("hardlink-password", leaked(err == nil && len(pw) > 0))
	// Any file of the host's users (the test's own directory holds one).
	b, err := os.ReadFile(filepath.Join(home, "user-file"))
	r.add("user-file", leaked(err == nil && len(b) > 0))
	r.add("network", network())
	// A network namespace does not isolate Unix sockets bound to a path
	// (the Docker or X11 socket, an SSH agent): the test listens on one in
	// the home directory.
	if c, err := net.DialTimeout("unix", filepath.Join(home, "s.sock"), 5*time.Second); err == nil {
		c.Close()
		r.add("unix-socket", "LEAKED")
	} else {
		r.add("unix-socket", "refused")
	}

	// A child in its own session that ignores the usual signals.
	setsid := exec.Command("/bin/sh", "-c", `trap "" TERM HUP INT; exec sleep `+Marker)
	setsid.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := setsid.Start(); err != nil {
		r.add("setsid", "not started: "+err.Error())
	} else {
		r.add("setsid", "started")
	}
	if !control {
		kernelAttempts(&r)
		r.add("scratch", fillScratch())
		r.add("fork", forkBomb())
		r.add("alloc", allocation())
		// 300 MB of log records and 300 MB of standard error.
		line := strings.Repeat("x", 1<<20)
		for i := 0; i < 300; i++ {
			slog.InfoContext(ctx, line)
			fmt.Fprintln(os.Stderr, line)
		}
		r.add("log", "300 MB written")
	}
	bash(ctx, conn, control, &r)
	if !control {
		r.add("bash-parallel", parallelBash(ctx, conn))
	}
	return r, nil
}

// parallelBash makes 100 run_bash calls at once, each holding its sandbox
// for 3 seconds: each would be processes outside this plugin's own limits.
func parallelBash(ctx context.Context, conn sdk.RemoteConnection) string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran, refused, why := 0, 0, ""
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := libs.RunBash(ctx, conn, "sleep 3")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
				why = err.Error()
			} else {
				ran++
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d ran, %d refused: %s", ran, refused, why)
}

// procEnvironHas tells whether any visible process has s in its environment.
func procEnvironHas(s string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// network says whether a TCP connection reaches the host's loopback: a
// refused connection reached it too.
func network() string {
	c, err := net.DialTimeout("tcp", "127.0.0.1:9", 5*time.Second)
	switch {
	case err == nil:
		c.Close()
		return "LEAKED (connected)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "LEAKED (reached, refused)"
	}
	return "refused"
}

// scratchCap bounds the writes into the work directory (so that a run
// without a sandbox does not fill the disk): reaching it means "not
// refused".
const scratchCap = 1 << 30

// fillScratch writes 1 MiB pieces into a file of its work directory until
// a write is refused, then removes the file.
func fillScratch() string {
	f, err := os.Create("fill")
	if err != nil {
		return "not started: " + err.Error()
	}
	defer os.Remove("fill")
	defer f.Close()
	piece := make([]byte, 1<<20)
	for n := 0; n < scratchCap; n += len(piece) {
		if _, err := f.Write(piece); err != nil {
			return fmt.Sprintf("refused at %d MiB: %v", n>>20, err)
		}
	}
	return "LEAKED (1 GiB)"
}

// forkBomb starts sleeping children until the kernel refuses one.
func forkBomb() string {
	var kids []*exec.Cmd
	defer func() {
		for _, k := range kids {
			k.Process.Kill()
			k.Wait()
		}
	}()
	for len(kids) < 3000 {
		k := exec.Command("sleep", Marker)
		if err := k.Start(); err != nil {
			return fmt.Sprintf("refused after %d", len(kids))
		}
		kids = append(kids, k)
	}
	return "LEAKED (3000 processes)"
}

// allocation runs this binary's allocate in a child and says how far it got.
func allocation() string {
	exe, err := os.Executable()
	if err != nil {
		return "not started: " + err.Error()
	}
	cmd := exec.Command(exe, "alloc")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "not started: " + err.Error()
	}
	last := "0"
	all := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "all ") {
			all = true
		} else {
			last = sc.Text()
		}
	}
	cmd.Wait()
	if all {
		return "LEAKED (1 GiB)"
	}
	return "refused at " + last + " MiB"
}

// bash tries the same escapes through run_bash.
func bash(ctx context.Context, conn sdk.RemoteConnection, control bool, r *report) {
	script := `
for d in $DIRS; do
  test -s "$d/secrets.key" && cat "$d/secrets.key" >/dev/null && echo secrets.key
  test -s "$d/debug.log" && cat "$d/debug.log" >/dev/null && echo secrets.key
  test -s "$d/engine.db" && head -c 16 "$d/engine.db" >/dev/null && echo engine.db
  test -n "$(ls "$d/blobs/sha256" 2>/dev/null)" && echo blobs
  echo x 2>/dev/null > "$d/planted-by-bash" && echo write-data-dir
done
test -s "$HOME/engine-password" && cat "$HOME/engine-password" >/dev/null && echo password-file
env | grep -q '^DVP_' && echo env
grep -l DVP_ENGINE_ADMIN_PASSWORD /proc/[0-9]*/environ >/dev/null 2>&1 && echo procenv
setsid sh -c 'trap "" TERM HUP INT; exec sleep ` + Marker + `' </dev/null >/dev/null 2>&1 &
echo done
`
	res, err := libs.RunBash(ctx, conn, script, libs.Variables(map[string]string{"DIRS": strings.Join(dataDirs(), " ")}))
	if err != nil {
		r.add("bash", "error: "+err.Error())
		return
	}
	got := map[string]bool{}
	for _, l := range strings.Fields(res.Stdout) {
		got[l] = true
	}
	for _, a := range []string{"secrets.key", "engine.db", "blobs", "write-data-dir", "env", "procenv", "password-file"} {
		r.add("bash-"+a, leaked(got[a]))
	}
	r.add("bash-setsid", leaked(!got["done"])+" (ran)")
	if control {
		return
	}
	// Fork and allocate without bound (sh stops at a refused fork; bash
	// would retry), print 100 MB (the library keeps 64 MiB).
	res, err = libs.RunBash(ctx, conn, `exec sh -c 'n=0; while [ $n -lt 3000 ]; do sleep `+Marker+` & n=$((n+1)); done; echo forked $n' 2>&1`)
	switch {
	case err != nil:
		r.add("bash-fork", "error: "+err.Error())
	case strings.Contains(res.Stdout, "forked 3000"):
		r.add("bash-fork", "LEAKED (3000 processes)")
	default:
		r.add("bash-fork", "refused ("+lastLine(res.Stdout)+")")
	}
	res, err = libs.RunBash(ctx, conn, `s=xxxxxxxxxxxxxxxx; i=0; while [ $i -lt 26 ]; do s="$s$s"; i=$((i+1)); done; echo allocated ${#s}`)
	switch {
	case err != nil:
		r.add("bash-alloc", "error: "+err.Error())
	case strings.Contains(res.Stdout, "allocated"):
		r.add("bash-alloc", "LEAKED (1 GiB)")
	default:
		r.add("bash-alloc", fmt.Sprintf("refused (exit %d)", res.ExitCode))
	}
	_, err = libs.RunBash(ctx, conn, `yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c 100000000`)
	r.add("bash-output", fmt.Sprintf("%v", err))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

func sourceConfigDiscovery(ctx context.Context, conn sdk.RemoteConnection, repository generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
	return floodSourceConfigs(ctx, conn, repository), nil
}

func linkedPostSnapshot(ctx context.Context, staged sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
	return generated.SnapshotDefinition{}, nil
}

func linkedMountSpecification(ctx context.Context, staged sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	if spec, ok := floodMounts(staged); ok {
		return spec, nil
	}
	return sdk.MountSpecification{}, &sdk.UserError{Message: "hostile does not link"}
}

func configure(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	return generated.SourceConfigDefinition{}, &sdk.UserError{Message: "hostile does not provision"}
}

func reconfigure(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	return configure(ctx, virtual, repository, snapshot)
}

func virtualPostSnapshot(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
	return generated.SnapshotDefinition{}, nil
}

func virtualMountSpecification(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	return sdk.MountSpecification{}, &sdk.UserError{Message: "hostile does not provision"}
}
