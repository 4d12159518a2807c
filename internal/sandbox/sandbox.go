// Package sandbox starts the engine's untrusted processes (plugin processes
// and the commands plugins run on a local environment) isolated from the
// engine: an allow-listed environment, a private view of the file system
// that hides the engine's data, a process-ID namespace whose processes all
// die with the operation, optionally no network, and resource limits.
// docs/engine.md ("Sandbox") describes the threat model and the limits of
// each mechanism.
//
// On Linux the isolation uses unprivileged user, mount, PID and network
// namespaces: Wrap makes a command re-execute the current binary in a
// hidden init mode (InitArg), which sets up the namespace and starts the
// real command as its child. Any binary that imports this package has that
// mode (the package's init function runs it). Other systems are
// unsupported: New returns an error there.
package sandbox

import (
	"os"

	"strings"
)

// InitArg is the first argument of the hidden init mode.
const InitArg = "__sandbox-init"

// Limits bound the resources of one sandboxed command and everything it
// starts. Zero means unlimited.
type Limits struct {
	// MemoryBytes bounds the data (heap) of each process (RLIMIT_DATA) and,
	// where the engine can use a memory cgroup, the memory of them all.
	MemoryBytes int64
	// Processes bounds the processes and threads (RLIMIT_NPROC counted in
	// the sandbox's user namespace; a pids cgroup where available, which
	// also binds a root engine, for which the kernel does not enforce
	// RLIMIT_NPROC).
	Processes int
	// OpenFiles bounds the open files of each process (RLIMIT_NOFILE).
	OpenFiles int
	// CPUSeconds bounds the CPU time of each process (RLIMIT_CPU).
	CPUSeconds int
	// ScratchBytes is the size of a plugin process's work directory, a
	// private tmpfs (Bind.ScratchBytes): what it writes there cannot fill
	// the engine's disk.
	ScratchBytes int64
}

// DefaultLimits are the limits of dvp engine serve unless flags change them.
func DefaultLimits() Limits {
	return Limits{MemoryBytes: 8 << 30, Processes: 1024, OpenFiles: 4096, CPUSeconds: 3600, ScratchBytes: 256 << 20}
}

// Policy says what one sandboxed command may see and do.
type Policy struct {
	// Hide lists directories replaced, in the sandbox, by an empty
	// read-only directory (the engine's data directory, the engine user's
	// ~/.dvp), and files that cannot be opened there (the admin password
	// file, the TLS key). Missing ones are skipped.
	Hide []string
	// Expose lists paths inside hidden directories that stay visible at
	// the same place: the plugin's executable (read-only), its work
	// directory (writable). Missing ones are skipped.
	Expose []Bind
	// ReadOnly makes the whole file system read-only except the writable
	// Expose entries (plugin processes).
	ReadOnly bool
	// SystemOnly gives the command a file system of its own that holds,
	// besides the Expose entries, only the host's programs and libraries
	// (/usr, /bin, /sbin, /lib*), the entries of /etc that programs read
	// (SystemEtc), a few devices (/dev/null, zero, full, random, urandom),
	// its own /proc and an empty /tmp: none of the host's other files,
	// whatever their path or their links (plugin processes). Hide still
	// applies inside it.
	SystemOnly bool
	// Network keeps the engine host's network. Without it the command has
	// its own network namespace with no interface up.
	Network bool
	Limits  Limits
	// User, when set, is the OS user the command runs as (a local
	// environment's --os-user); only a root engine can. Nil: the engine's
	// user.
	User *User
	// Group, when set (NewGroup), is the group of sandboxes whose
	// processes and memory Limits bound together: a plugin process and
	// the commands it runs. Nil: the command's own limits only.
	Group *Group
}

// User is an OS user a command runs as: its IDs, supplementary groups
// (GID first), name and home directory.
type User struct {
	Name     string
	UID, GID int
	Groups   []int
	Home     string
}

// UserEnv sets HOME, USER and LOGNAME of env (from Env) to u's; env as it
// is when u is nil.
func UserEnv(env []string, u *User) []string {
	if u == nil {
		return env
	}
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name != "HOME" && name != "USER" && name != "LOGNAME" {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+u.Home, "USER="+u.Name, "LOGNAME="+u.Name)
}

// Bind is one path kept visible inside a hidden directory.
type Bind struct {
	Path     string
	Writable bool
	// ScratchBytes, when positive, makes Path (a directory) an empty
	// private tmpfs of that size instead of the host's directory: what
	// the command writes there stays in the sandbox, is bounded, and is
	// gone when the command ends.
	ScratchBytes int64 `json:"scratchBytes,omitempty"`
}

// SystemEtc are the entries of /etc a SystemOnly command sees: what the C
// library, the shell and common tools read. Secrets kept in /etc (shadow,
// SSH host keys, TLS private keys, /etc/environment) are not among them.
var SystemEtc = []string{
	"passwd", "group", "hosts", "hostname", "resolv.conf", "nsswitch.conf", "host.conf", "gai.conf",
	"localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
	"ssl/certs", "ca-certificates.conf", "mime.types", "protocols", "services", "networks",
	"os-release", "debian_version", "lsb-release", "locale.alias", "bash.bashrc", "profile",
	"inputrc", "shells", "login.defs", "magic", "magic.mime",
}

// allowedEnv are the variables kept from the engine's environment.
var allowedEnv = map[string]bool{
	"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "LANG": true, "LANGUAGE": true,
	"TZ": true, "TERM": true,
}

// Env builds a sandboxed command's environment from base (nil: this
// process's environment): PATH, HOME, USER, LOGNAME, LANG, LANGUAGE, LC_*,
// TZ and TERM only, never a DVP_* variable; TMPDIR is tmpDir, or when that
// is empty base's TMPDIR. Extra "NAME=value" entries are appended (they win).
func Env(base []string, tmpDir string, extra ...string) []string {
	if base == nil {
		base = os.Environ()
	}
	var env []string
	for _, kv := range base {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || strings.HasPrefix(name, "DVP_") {
			continue
		}
		if allowedEnv[name] || strings.HasPrefix(name, "LC_") || (name == "TMPDIR" && tmpDir == "") {
			env = append(env, kv)
		}
	}
	if _, ok := lookup(env, "PATH"); !ok {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if tmpDir != "" {
		env = append(env, "TMPDIR="+tmpDir)
	}
	env = append(env, extra...)
	return env
}

func lookup(env []string, name string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v, true
		}
	}
	return "", false
}
