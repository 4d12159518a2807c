package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk/libs"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshExec runs on a host reached over SSH (golang.org/x/crypto/ssh for
// commands, the ssh and rsync programs for copies).
type sshExec struct {
	env    engineapi.Environment
	mu     sync.Mutex
	client *ssh.Client
}

func newSSHExec(env engineapi.Environment) *sshExec { return &sshExec{env: env} }

// KnownHostsFile is the file the host key is checked against.
func KnownHostsFile(env engineapi.Environment) string {
	if env.KnownHostsFile != "" {
		return env.KnownHostsFile
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".ssh", "known_hosts")
}

// Bounds of the files an SSH environment names: a private key is a few
// KiB (an RSA key of 16384 bits under 13 KiB); a known hosts file has a
// line per host.
const (
	maxSSHKeyFile     = 1 << 20
	maxKnownHostsFile = 64 << 20
)

// dialSSH connects to the environment, checking its host key. The key and
// the known hosts file must be regular files within their bounds: a path
// to a FIFO, a device or a huge file cannot hold the engine.
func dialSSH(ctx context.Context, env engineapi.Environment) (*ssh.Client, error) {
	key, err := fsutil.ReadRegular(env.SSHKeyFile, maxSSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the SSH private key of environment %s: %v", env.Name, err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("the SSH private key %s of environment %s cannot be used: %v (keys with a passphrase are not supported)", env.SSHKeyFile, env.Name, err)
	}
	var hostKey ssh.HostKeyCallback
	if env.InsecureIgnoreHostKey {
		hostKey = ssh.InsecureIgnoreHostKey()
	} else {
		file := KnownHostsFile(env)
		err := checkKnownHostsFile(file)
		var cb ssh.HostKeyCallback
		if err == nil {
			cb, err = knownhosts.New(file)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read the known hosts file %s to verify the host key of %s: %v", file, env.Host, err)
		}
		hostKey = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			err := cb(hostname, remote, key)
			var ke *knownhosts.KeyError
			if errors.As(err, &ke) {
				if len(ke.Want) == 0 {
					return fmt.Errorf("the host key of %s (%s) is not in %s: add it (ssh-keyscan -p PORT HOST >> %s) or, for a test host only, add the environment with --insecure-ignore-host-key", hostname, ssh.FingerprintSHA256(key), file, file)
				}
				return fmt.Errorf("the host key of %s (%s) does NOT match the one in %s: the host may be impersonated; if its key really changed, update %s", hostname, ssh.FingerprintSHA256(key), file, file)
			}
			return err
		}
	}
	port := env.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(env.Host, strconv.Itoa(port))
	cfg := &ssh.ClientConfig{User: env.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKey, Timeout: 20 * time.Second}
	d := net.Dialer{Timeout: 20 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %v", addr, err)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("SSH login to %s@%s failed: %v", env.User, addr, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// checkKnownHostsFile refuses a known hosts file that is not a regular
// file (knownhosts opens it: a FIFO would wait for a writer) or is over
// its bound, saying what it is.
func checkKnownHostsFile(file string) error {
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (mode %s)", file, st.Mode())
	}
	if st.Size() > maxKnownHostsFile {
		return &fsutil.ErrTooLarge{Path: file, Max: maxKnownHostsFile}
	}
	return nil
}

func (s *sshExec) conn(ctx context.Context) (*ssh.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	c, err := dialSSH(ctx, s.env)
	if err != nil {
		return nil, libErr(pluginhost.LibErrFailed, "%v", err)
	}
	s.sweep(c)
	s.client = c
	return c, nil
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// script wraps a command so that bash reads it whole from standard input
// before running it, with the variables exported (never on a command line).
func script(command string, vars map[string]string) (string, error) {
	var b strings.Builder
	b.WriteString("{\n")
	for k, v := range vars {
		if !pluginhost.ValidEnvName(k) {
			return "", libErr(pluginhost.LibErrBadRequest, "The variable name %q is not a valid environment variable name.", k)
		}
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	b.WriteString(command)
	b.WriteString("\n}\n")
	return b.String(), nil
}

// run runs remoteCmd with stdin; a non-zero exit is a result.
func (s *sshExec) run(ctx context.Context, remoteCmd string, stdin string) (libs.RunResult, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return libs.RunResult{}, err
	}
	sess, err := c.NewSession()
	if err != nil {
		return libs.RunResult{}, libErr(pluginhost.LibErrFailed, "cannot open an SSH session on %s: %v", s.env.Name, err)
	}
	defer sess.Close()
	charge := pluginhost.MemoryCharge(ctx)
	out := &pluginhost.OutputBuffer{Max: pluginhost.MaxCommandOutput, JSON: true, Charge: charge}
	errb := &pluginhost.OutputBuffer{Max: pluginhost.MaxCommandOutput, JSON: true, Charge: charge}
	sess.Stdout, sess.Stderr, sess.Stdin = out, errb, strings.NewReader(stdin)
	if lw, flush := pluginhost.OutputWriter(ctx); lw != nil {
		lw2, flush2 := pluginhost.OutputWriter(ctx)
		sess.Stdout, sess.Stderr = io.MultiWriter(out, lw), io.MultiWriter(errb, lw2)
		defer flush2()
		defer flush()
	}
	done := make(chan error, 1)
	tag := s.newRunTag()
	go func() { done <- sess.Run(tagged(remoteCmd, tag)) }()
	select {
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		// What it started outside its session (nohup, setsid) too.
		s.killRun(c, tag)
		return libs.RunResult{}, libErr(pluginhost.LibErrCancelled, "the command on %s was stopped: %v", s.env.Name, context.Cause(ctx))
	case err = <-done:
	}
	if err := pluginhost.OutputErr(out, errb); err != nil {
		return libs.RunResult{}, err
	}
	res := libs.RunResult{Stdout: out.String(), Stderr: errb.String()}
	if err != nil {
		var ee *ssh.ExitError
		var missing *ssh.ExitMissingError
		switch {
		case errors.As(err, &ee):
			res.ExitCode = ee.ExitStatus()
			if ee.Signal() != "" && res.ExitCode == 0 {
				res.ExitCode = 128 + 9
			}
		case errors.As(err, &missing):
			res.ExitCode = 255
		default:
			return libs.RunResult{}, libErr(pluginhost.LibErrFailed, "the command on %s failed: %v", s.env.Name, err)
		}
	}
	return res, nil
}

func (s *sshExec) RunBash(ctx context.Context, req pluginhost.BashRequest) (libs.RunResult, error) {
	sc, err := script(req.Command, req.Variables)
	if err != nil {
		return libs.RunResult{}, err
	}
	shell := "bash -s"
	if req.UseLoginShell {
		shell = "bash -l -s"
	}
	res, err := s.run(ctx, shell, sc)
	if err == nil && res.ExitCode == 127 && strings.Contains(res.Stderr, "bash") && strings.Contains(res.Stderr, "not found") {
		return libs.RunResult{}, libErr(pluginhost.LibErrUnsupported, "run_bash is not supported on %s: bash is not installed there.", s.env.Name)
	}
	return res, err
}

func (s *sshExec) RunExpect(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	probe, err := s.run(ctx, "command -v expect", "")
	if err != nil {
		return libs.RunResult{}, err
	}
	if probe.ExitCode != 0 {
		return libs.RunResult{}, libErr(pluginhost.LibErrUnsupported, "run_expect is not supported on %s: expect is not installed there.", s.env.Name)
	}
	delim := "DVP_EXPECT_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cmd := fmt.Sprintf("f=$(mktemp) || exit 1\ncat > \"$f\" <<'%s'\n%s\n%s\nexpect -f \"$f\"; rc=$?; rm -f \"$f\"; exit $rc", delim, req.Command, delim)
	sc, err := script(cmd, req.Variables)
	if err != nil {
		return libs.RunResult{}, err
	}
	return s.run(ctx, "bash -s", sc)
}

func (s *sshExec) RunPowershell(context.Context, pluginhost.ScriptRequest) (libs.RunResult, error) {
	return libs.RunResult{}, libErr(pluginhost.LibErrUnsupported,
		"run_powershell is not supported on %s: it is a UNIX host reached over SSH; PowerShell runs on WINDOWS hosts.", s.env.Name)
}

// sshCommand is the ssh command line rsync uses (-e).
func (s *sshExec) sshCommand() string {
	port := s.env.Port
	if port == 0 {
		port = 22
	}
	parts := []string{"ssh", "-p", strconv.Itoa(port), "-i", shellQuote(s.env.SSHKeyFile), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"}
	if s.env.InsecureIgnoreHostKey {
		parts = append(parts, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR")
	} else {
		parts = append(parts, "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+shellQuote(KnownHostsFile(s.env)))
	}
	return strings.Join(parts, " ")
}

func (s *sshExec) remote(path string) string { return s.env.User + "@" + s.env.Host + ":" + path }

func (s *sshExec) rsync(ctx context.Context, args ...string) error {
	rsync, err := osexec.LookPath("rsync")
	if err != nil {
		return libErr(pluginhost.LibErrUnsupported, "copies to and from %s need rsync on the engine's host, and it is not installed.", s.env.Name)
	}
	full := append([]string{"-a", "--delete", "-e", s.sshCommand()}, args...)
	lw, flush := pluginhost.OutputWriter(ctx)
	if lw != nil {
		// The files rsync copies, one line each, are the job's progress.
		full = append([]string{"--out-format=%n%L"}, full...)
	}
	cmd := osexec.CommandContext(ctx, rsync, full...)
	cmd.Env = toolEnv()
	cmd.WaitDelay = time.Second
	dieWithEngine(cmd)
	out := &pluginhost.OutputBuffer{Max: maxToolOutput}
	cmd.Stdout, cmd.Stderr = out, out
	if lw != nil {
		cmd.Stdout = lw
		defer flush()
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return libErr(pluginhost.LibErrCancelled, "rsync was stopped: %v", context.Cause(ctx))
		}
		msg := strings.TrimSpace(out.String())
		if len(msg) > 4096 {
			msg = msg[len(msg)-4096:]
		}
		return libErr(pluginhost.LibErrFailed, "rsync with %s failed (%v): %s", s.env.Name, err, msg)
	}
	return nil
}

func (s *sshExec) Pull(ctx context.Context, req pluginhost.SyncRequest, dest string) error {
	if req.RsyncUser != "" && req.RsyncUser != s.env.User {
		return libErr(pluginhost.LibErrUnsupported, "run_sync cannot copy as the user '%s' on %s: the engine logs in as %s.", req.RsyncUser, s.env.Name, s.env.User)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	src := strings.TrimRight(req.SourceDirectory, "/") + "/"
	var args []string
	for _, p := range req.ExcludePaths {
		args = append(args, "--exclude=/"+strings.TrimPrefix(strings.TrimPrefix(p, src), "/"))
	}
	if len(req.SymLinksToFollow) > 0 {
		args = append(args, "--copy-links")
	}
	args = append(args, s.remote(src), strings.TrimRight(dest, "/")+"/")
	return s.rsync(ctx, args...)
}

func (s *sshExec) Mount(ctx context.Context, storage, mountPath string, remount bool) (string, error) {
	if !strings.HasPrefix(mountPath, "/") {
		return "", fmt.Errorf("the mount path %q is not absolute", mountPath)
	}
	if !remount {
		// rsync --delete would erase what is there: only an absent or empty directory is accepted.
		res, err := s.run(ctx, "bash -s", fmt.Sprintf("p=%s\nif [ -e \"$p\" ] && [ -n \"$(ls -A \"$p\" 2>/dev/null)\" ]; then exit 3; fi\nmkdir -p \"$p\"\n", shellQuote(mountPath)))
		if err != nil {
			return "", err
		}
		if res.ExitCode == 3 {
			return "", fmt.Errorf("the mount path %s on %s exists and is not empty; the engine copies the storage there, so it must be absent or an empty directory", mountPath, s.env.Name)
		}
		if res.ExitCode != 0 {
			return "", fmt.Errorf("cannot create the mount path %s on %s: %s", mountPath, s.env.Name, strings.TrimSpace(res.Stderr))
		}
	}
	if err := s.rsync(ctx, strings.TrimRight(storage, "/")+"/", s.remote(strings.TrimRight(mountPath, "/")+"/")); err != nil {
		return "", err
	}
	return MountRsync, nil
}

func (s *sshExec) SyncBack(ctx context.Context, storage, mountPath, method string) error {
	if method != MountRsync {
		return nil
	}
	return s.rsync(ctx, s.remote(strings.TrimRight(mountPath, "/")+"/"), strings.TrimRight(storage, "/")+"/")
}

// Verify has nothing to check: the storage is copied to the host.
func (s *sshExec) Verify(context.Context, string, string, string, bool) error { return nil }

func (s *sshExec) Unmount(ctx context.Context, _, mountPath, method string) error {
	if method != MountRsync || mountPath == "/" || mountPath == "" {
		return nil
	}
	res, err := s.run(ctx, "rm -rf -- "+shellQuote(mountPath), "")
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("cannot remove the mount path %s on %s: %s", mountPath, s.env.Name, strings.TrimSpace(res.Stderr))
	}
	return nil
}

func (s *sshExec) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		err := s.client.Close()
		s.client = nil
		return err
	}
	return nil
}
