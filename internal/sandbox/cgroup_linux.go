//go:build linux

package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroups are the cgroup v1 pids and memory hierarchies the engine can
// create groups in (a root engine): each sandbox gets its own group in
// each, under dvp-sandbox/ below the engine's own group.
type cgroups struct {
	parents []string // .../dvp-sandbox of each controller
}

// openCgroups returns the usable hierarchies, or nil; it removes what is
// left of engines that no longer run (killing their processes first).
func openCgroups() *cgroups {
	if os.Geteuid() != 0 {
		return nil
	}
	own := ownCgroups()
	var c cgroups
	for _, ctl := range []string{"pids", "memory"} {
		rel, ok := own[ctl]
		if !ok {
			continue
		}
		parent := filepath.Join(cgroupRoot, ctl, rel, "dvp-sandbox")
		if err := os.MkdirAll(parent, 0o755); err != nil {
			continue
		}
		sweep(parent)
		c.parents = append(c.parents, parent)
	}
	if len(c.parents) == 0 {
		return nil
	}
	return &c
}

func (c *cgroups) describe() string {
	var ctls []string
	for _, p := range c.parents {
		rel := strings.TrimPrefix(p, cgroupRoot+"/")
		ctls = append(ctls, strings.SplitN(rel, "/", 2)[0])
	}
	return strings.Join(ctls, "+")
}

// ownCgroups maps each v1 controller to this process's group.
func ownCgroups() map[string]string {
	m := map[string]string{}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			if ctl != "" {
				m[ctl] = parts[2]
			}
		}
	}
	return m
}

// create makes the groups of one sandbox with the limits set, under
// parents (one per controller; nil: the engine's dvp-sandbox groups).
func (c *cgroups) create(l Limits, parents []string) ([]string, func(), error) {
	name := fmt.Sprintf("%d-%d", os.Getpid(), seq.Add(1))
	if parents == nil {
		parents = c.parents
	}
	var dirs []string
	release := func() {
		for _, d := range dirs {
			removeGroup(d)
		}
	}
	for _, p := range parents {
		d := filepath.Join(p, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			release()
			return nil, nil, fmt.Errorf("creating the cgroup %s: %v", d, err)
		}
		dirs = append(dirs, d)
		var err error
		switch {
		case strings.HasPrefix(d, cgroupRoot+"/pids/") && l.Processes > 0:
			err = os.WriteFile(filepath.Join(d, "pids.max"), []byte(strconv.Itoa(l.Processes)), 0)
		case strings.HasPrefix(d, cgroupRoot+"/memory/") && l.MemoryBytes > 0:
			err = os.WriteFile(filepath.Join(d, "memory.limit_in_bytes"), []byte(strconv.FormatInt(l.MemoryBytes, 10)), 0)
		}
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("setting the limit of the cgroup %s: %v", d, err)
		}
	}
	return dirs, release, nil
}

// removeGroup kills the processes of a group and of the groups under it,
// and removes them all.
func removeGroup(dir string) {
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				removeGroup(filepath.Join(dir, e.Name()))
			}
		}
	}
	// Killed processes leave the group once they have exited: wait for
	// that a little (up to half a second).
	for try := 0; ; try++ {
		killAll(dir)
		if err := os.Remove(dir); err == nil || os.IsNotExist(err) || try == 50 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killAll kills the processes of a group.
func killAll(dir string) {
	for range 10 {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			return
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// sweep removes the groups of engines that are gone.
func sweep(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidStr, _, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // that engine still runs
		}
		removeGroup(filepath.Join(parent, e.Name()))
	}
}
