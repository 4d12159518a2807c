package exec

import (
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
)

// Plugin logs rotate like dvp's own debug log: each of debug.log, info.log,
// error.log and output.log keeps at most PluginLogMaxBytes, plus
// PluginLogBackups older files.
const (
	PluginLogMaxBytes = 10 << 20
	PluginLogBackups  = 5
	// maxLogRecord bounds one plugin log record.
	maxLogRecord = 256 << 10
)

// workDir returns (creating it) the plugin's work directory: its working
// directory and TMPDIR, the one place its process can write.
func (rn *Runner) workDir(pluginID string) (string, error) {
	logs, err := store.PluginLogDir(rn.DataDir, pluginID)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(rn.DataDir, store.PluginWorkDir, filepath.Base(logs))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// pluginPolicy is the sandbox of a plugin process: no network, a file
// system of its own that holds only the host's programs and libraries
// (read-only), its executable (read-only) and its work directory — a
// private scratch tmpfs of Limits.ScratchBytes, so that what it writes
// cannot fill the engine's disk — with the engine's directories and
// secret files hidden in case they lie among the system's. Its processes
// and memory count in group, with those of its local commands.
func (rn *Runner) pluginPolicy(bin, work string, group *sandbox.Group) sandbox.Policy {
	return sandbox.Policy{
		Group:      group,
		Hide:       rn.Hidden,
		Expose:     []sandbox.Bind{{Path: bin}, {Path: work, Writable: true, ScratchBytes: rn.Limits.ScratchBytes}},
		ReadOnly:   true,
		SystemOnly: true,
		Limits:     shareOf(rn.Limits, group, true),
	}
}

// shareOf are the limits of a plugin process (plugin) or of one of its
// commands on a local environment: without a group (an engine without
// cgroups), each gets its share of the processes (sandbox.ProcessShares),
// so that together they stay within --max-processes.
func shareOf(l sandbox.Limits, group *sandbox.Group, plugin bool) sandbox.Limits {
	if group == nil {
		p, c := sandbox.ProcessShares(l.Processes, pluginhost.MaxLibraryCalls)
		l.Processes = c
		if plugin {
			l.Processes = p
		}
	}
	return l
}

// newExecutor returns the executor of a plugin's library calls on env: on
// a local environment its commands run sandboxed, with the network and
// the host's files but not the engine's directories, except the storage
// the job mounted.
func (l *engineLibraries) newExecutor(env engineapi.Environment) Executor {
	x := New(env)
	if lx, ok := x.(*localExec); ok && l.rn.Sandbox != nil {
		lx.sb = l.rn.Sandbox
		lx.policy = l.localPolicy
	} else if ok && lx.osUser != nil && lx.userErr == nil {
		lx.userErr = OSUserNeedsSandbox(lx.osUser.Name)
	}
	return x
}

func (l *engineLibraries) localPolicy() sandbox.Policy {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := sandbox.Policy{Hide: l.rn.Hidden, Network: true, Limits: shareOf(l.rn.Limits, l.group, false), Group: l.group}
	for _, d := range l.exposed {
		p.Expose = append(p.Expose, sandbox.Bind{Path: d, Writable: true})
	}
	return p
}

// Expose makes dir (a container's storage, which the job mounts on a local
// environment) visible to the plugin's commands on local environments.
func (r *Plugin) Expose(dir string) {
	r.libs.mu.Lock()
	defer r.libs.mu.Unlock()
	r.libs.exposed = append(r.libs.exposed, dir)
}

// sharedLogs are the open plugin log files, shared by the jobs that run the
// same plugin at once (each file rotates in one place).
type sharedLogs struct {
	mu    sync.Mutex
	files map[string]*sharedLog
}

type sharedLog struct {
	*logging.RotatingFile
	users int
}

// open returns the log file at path and the function that releases it.
func (s *sharedLogs) open(path string) (io.Writer, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[path]
	if !ok {
		rf, err := logging.OpenRotating(path, PluginLogMaxBytes, PluginLogBackups)
		if err != nil {
			return nil, nil, err
		}
		if s.files == nil {
			s.files = map[string]*sharedLog{}
		}
		f = &sharedLog{RotatingFile: rf}
		s.files[path] = f
	}
	f.users++
	var once sync.Once
	return f, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if f.users--; f.users == 0 {
				f.Close()
				delete(s.files, path)
			}
		})
	}, nil
}
