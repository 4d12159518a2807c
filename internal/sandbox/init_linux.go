//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// probeTarget is the init mode's argument that exits 0 at once: New runs it
// in a full sandbox to check the kernel.
const probeTarget = "probe-target"

// Exit codes of the init process when it cannot start the command.
const exitSetup = 125

// textBusyTries bounds the starts of an executable that another process
// still holds open for writing (ETXTBSY), about 0.3 s in all.
const textBusyTries = 25

func init() {
	if len(os.Args) < 2 || os.Args[1] != InitArg {
		return
	}
	if len(os.Args) == 3 && os.Args[2] == probeTarget {
		os.Exit(0)
	}
	os.Exit(runInit(os.Args[2:]))
}

// runInit is the init process of a sandbox: args are the spec (JSON), the
// command's path and its arguments.
func runInit(args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "dvp sandbox: "+format+"\n", a...)
		return exitSetup
	}
	if len(args) < 2 {
		return fail("usage: %s SPEC PATH [ARG...]", InitArg)
	}
	var sp spec
	if err := json.Unmarshal([]byte(args[0]), &sp); err != nil {
		return fail("bad spec: %v", err)
	}
	// The cgroups are opened before the file system turns read-only.
	var procs []*os.File
	for _, dir := range sp.Cgroups {
		f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
		if err != nil {
			return fail("opening the cgroup %s: %v", dir, err)
		}
		procs = append(procs, f)
	}
	if err := setupMounts(&sp); err != nil {
		return fail("%v", err)
	}
	if sp.Dir != "" {
		if err := os.Chdir(sp.Dir); err != nil {
			return fail("%v", err)
		}
	}
	argv := append([]string{sp.Argv0}, args[2:]...)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// The command starts stopped (traced), so that its limits and cgroups
	// are set before it runs its first instruction; this process keeps
	// its own (it must be able to reap whatever the command does).
	runtime.LockOSThread()
	// Only descriptors 0, 1 and 2 reach the command: any other the engine
	// inherited without close-on-exec (from a shell's redirection, a
	// service manager's socket) would be open in the plugin.
	if err := closeOnExecFrom(3); err != nil {
		return fail("%v", err)
	}
	attr := &syscall.ProcAttr{
		Dir:   sp.Dir,
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   commandAttr(&sp),
	}
	pid, err := forkExec(args[1], argv, attr)
	if err != nil {
		return fail("cannot start %s: %v", args[1], err)
	}
	if err := confine(pid, &sp, procs); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return fail("%v", err)
	}
	go func() {
		for s := range sigs {
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	code, err := reap(pid)
	if err != nil {
		return fail("waiting for the command: %v", err)
	}
	return code
}

// commandAttr is how the command starts: traced, in a nested user
// namespace in which it has its real user ID and no capability over this
// namespace, so that it can neither undo the mounts nor bring an
// interface up.
func commandAttr(sp *spec) *syscall.SysProcAttr {
	sys := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: sp.UID, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: sp.GID, HostID: 0, Size: 1}},
		Ptrace:      true,
	}
	if sp.AsUser {
		// Another OS user (mapped to itself in this namespace): the
		// nested namespace maps it and its groups again, and the command
		// takes those IDs before it runs.
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: sp.UID, HostID: sp.UID, Size: 1}}
		sys.GidMappings = nil
		groups := make([]uint32, 0, len(sp.Groups))
		for _, g := range sp.Groups {
			sys.GidMappings = append(sys.GidMappings, syscall.SysProcIDMap{ContainerID: g, HostID: g, Size: 1})
			groups = append(groups, uint32(g))
		}
		sys.GidMappingsEnableSetgroups = true
		sys.Credential = &syscall.Credential{Uid: uint32(sp.UID), Gid: uint32(sp.GID), Groups: groups}
	}
	return sys
}

// forkExec starts the command, again for a moment while its executable
// is busy.
func forkExec(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	pid, err := syscall.ForkExec(path, argv, attr)
	for try := 1; errors.Is(err, syscall.ETXTBSY) && try < textBusyTries; try++ {
		// The engine wrote the executable a moment ago, and a process it
		// forked meanwhile still holds the written file open until that
		// process execs: wait a little for it.
		time.Sleep(time.Duration(try) * time.Millisecond)
		pid, err = syscall.ForkExec(path, argv, attr)
	}
	return pid, err
}

// reap reaps every process of the namespace until the command (pid) ends,
// and returns its exit code (128 + the signal that killed it); then this
// process exits and the kernel kills the rest.
func reap(pid int) (int, error) {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
}

// exposed is a path the command sees, and a descriptor of it opened
// before anything was hidden (-1 for a new scratch tmpfs).
type exposed struct {
	Bind
	fd  int
	dir bool
}

// setupMounts builds the command's view of the file system.
func setupMounts(sp *spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mounts private: %v", err)
	}
	exps, err := openExposed(sp.Expose)
	if err != nil {
		return err
	}
	detach := func() error { return nil }
	if sp.System {
		// From here on, paths are in the sandbox's own root.
		if detach, err = enterSystemRoot(); err != nil {
			return err
		}
	}
	hidden, err := hidePaths(sp.Hide)
	if err != nil {
		return err
	}
	if err := exposePaths(sp, exps, hidden); err != nil {
		return err
	}
	if err := detach(); err != nil {
		return err
	}
	for _, h := range hidden {
		if err := unix.Mount("", h, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("making %s read-only: %v", h, err)
		}
	}
	if sp.System {
		return nil // its /proc is mounted
	}
	// A /proc of this PID namespace: the engine's processes (and their
	// environment) are not in it.
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %v", err)
	}
	return nil
}

// openExposed opens the paths to expose, before anything is hidden; a
// path that does not exist is left out.
func openExposed(binds []Bind) ([]exposed, error) {
	var exps []exposed
	for _, b := range binds {
		if b.ScratchBytes > 0 {
			// A new tmpfs: nothing of the host to open.
			exps = append(exps, exposed{Bind: b, fd: -1, dir: true})
			continue
		}
		fd, err := unix.Open(b.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // nothing to keep visible (yet)
		}
		if err != nil {
			return nil, fmt.Errorf("opening %s: %v", b.Path, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("stat %s: %v", b.Path, err)
		}
		exps = append(exps, exposed{Bind: b, fd: fd, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR})
	}
	return exps, nil
}

// hidePaths hides each directory of hide under an empty tmpfs (made
// read-only at the end of setupMounts) and each regular file under
// /dev/null; it returns the hidden directories.
func hidePaths(hide []string) ([]string, error) {
	hide = append([]string(nil), hide...)
	sort.Strings(hide)
	var hidden []string
	for _, h := range hide {
		h = filepath.Clean(h)
		if under(h, hidden) {
			continue
		}
		st, err := os.Stat(h)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			// A file (the admin password file, the TLS key): /dev/null
			// in its place, on a mount without devices, so that it
			// cannot even be opened.
			if !st.Mode().IsRegular() {
				continue
			}
			if err := unix.Mount("/dev/null", h, "", unix.MS_BIND, ""); err != nil {
				return nil, fmt.Errorf("hiding %s: %v", h, err)
			}
			if err := unix.Mount("", h, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
				return nil, fmt.Errorf("hiding %s: %v", h, err)
			}
			continue
		}
		if err := unix.Mount("tmpfs", h, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=1m"); err != nil {
			return nil, fmt.Errorf("hiding %s: %v", h, err)
		}
		hidden = append(hidden, h)
	}
	return hidden, nil
}

// exposePaths mounts each exposed path at its place (made first where it
// is hidden, or in the sandbox's own root): the host's path through its
// descriptor, read-only unless writable, or a new scratch tmpfs.
func exposePaths(sp *spec, exps []exposed, hidden []string) error {
	for _, e := range exps {
		p := filepath.Clean(e.Path)
		if under(p, hidden) || sp.System {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if e.dir {
				err := os.Mkdir(p, 0o755)
				if err != nil && !os.IsExist(err) {
					return err
				}
			} else if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
				return err
			} else {
				f.Close()
			}
		}
		if e.fd < 0 {
			if err := mountScratch(p, e.ScratchBytes); err != nil {
				return err
			}
			sp.mounted = append(sp.mounted, e.Bind)
			continue
		}
		if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(e.fd), p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("exposing %s: %v", p, err)
		}
		unix.Close(e.fd)
		sp.mounted = append(sp.mounted, e.Bind)
		if !e.Writable {
			if err := unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
				return fmt.Errorf("making %s read-only: %v", p, err)
			}
		}
	}
	return nil
}

// readOnly makes the file system read-only but for the writable exposed
// paths.
func readOnly(sp *spec) error {
	if !sp.ReadOnly {
		return nil
	}
	if err := unix.MountSetattr(-1, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("making the file system read-only: %v", err)
	}
	for _, e := range sp.mounted {
		if e.Writable {
			if err := unix.MountSetattr(-1, filepath.Clean(e.Path), 0, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}); err != nil {
				return fmt.Errorf("making %s writable: %v", e.Path, err)
			}
		}
	}
	return nil
}

// under tells whether p is one of dirs or inside one.
func under(p string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return fsutil.Within(d, p) })
}

// confine sets the limits and cgroups of the stopped command pid, then lets
// it run.
func confine(pid int, sp *spec, procs []*os.File) error {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == nil || !errors.Is(err, syscall.EINTR) {
			if err != nil {
				return fmt.Errorf("waiting for the command to start: %v", err)
			}
			break
		}
	}
	if !ws.Stopped() {
		return fmt.Errorf("the command did not start (%v)", ws)
	}
	for _, f := range procs {
		_, err := f.WriteString(strconv.Itoa(pid))
		f.Close()
		if err != nil {
			return fmt.Errorf("joining the cgroup %s: %v", filepath.Dir(f.Name()), err)
		}
	}
	if err := setLimits(pid, sp.Limits); err != nil {
		return err
	}
	// Once the cgroup.procs files are closed (a mount with a file open
	// for writing cannot turn read-only).
	if err := cgroupsReadOnly(); err != nil {
		return err
	}
	if err := readOnly(sp); err != nil {
		return err
	}
	if err := syscall.PtraceDetach(pid); err != nil {
		return fmt.Errorf("starting the command: %v", err)
	}
	return nil
}

// setLimits sets the resource limits of process pid.
func setLimits(pid int, l Limits) error {
	set := func(name string, res int, v uint64) error {
		if v == 0 {
			return nil
		}
		var cur unix.Rlimit
		if err := unix.Prlimit(pid, res, nil, &cur); err != nil {
			return err
		}
		if cur.Max != unix.RLIM_INFINITY && cur.Max < v {
			v = cur.Max
		}
		if err := unix.Prlimit(pid, res, &unix.Rlimit{Cur: v, Max: v}, nil); err != nil {
			return fmt.Errorf("setting the %s limit to %d: %v", name, v, err)
		}
		return nil
	}
	if err := set("data size", unix.RLIMIT_DATA, uint64(max(l.MemoryBytes, 0))); err != nil {
		return err
	}
	if err := set("process", unix.RLIMIT_NPROC, uint64(max(l.Processes, 0))); err != nil {
		return err
	}
	if err := set("open file", unix.RLIMIT_NOFILE, uint64(max(l.OpenFiles, 0))); err != nil {
		return err
	}
	return set("CPU time", unix.RLIMIT_CPU, uint64(max(l.CPUSeconds, 0)))
}

// closeOnExecFrom marks every descriptor from first on close-on-exec.
func closeOnExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// Kernels before 5.11: each open descriptor.
	ents, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("cannot close the engine's descriptors: %v, %v", err, rerr)
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// cgroupsReadOnly makes every cgroup file system of the command's view
// read-only. A local command sees the host's files, /sys/fs/cgroup
// included, and one of a root engine runs as root: writing its PID to a
// group's cgroup.procs (the root group's) took it out of the groups that
// bound the processes and memory of a plugin operation (docs/engine.md,
// "Sandbox"). The command cannot undo it: it has no capability over this
// mount namespace, and cgroup v1 cannot be mounted again from a user
// namespace. Reading stays possible (a JVM sizes itself from its limits).
func cgroupsReadOnly() error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("reading the mount table: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		before, after, ok := strings.Cut(line, " - ")
		fields, fs := strings.Fields(before), strings.Fields(after)
		if !ok || len(fields) < 5 || len(fs) < 1 || (fs[0] != "cgroup" && fs[0] != "cgroup2") {
			continue
		}
		mp := unescapeMount(fields[4])
		if err := unix.MountSetattr(-1, mp, unix.AT_RECURSIVE|unix.AT_SYMLINK_NOFOLLOW, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("making the cgroup file system %s read-only: %v", mp, err)
		}
	}
	return nil
}

// unescapeMount reads a path of /proc/self/mountinfo, where a space, a
// tab, a newline and a backslash are written as octal escapes (\040).
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
