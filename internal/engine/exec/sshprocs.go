package exec

// The processes a command starts on an SSH host (docs/engine.md, "SSH
// environments: what a cancel and a crash leave"). A job's command may
// start processes that leave its session (nohup, setsid, a double fork):
// closing the session or signalling its shell does not reach them. Every
// bash the engine runs there carries DVP_RUN=<environment>.<engine
// process>.<run> in its environment, which the processes it starts
// inherit; a cancelled command's processes are found by it (in /proc) and
// killed, and the first connection of an engine process to an
// environment kills what an earlier engine process (one that crashed)
// left running there.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshRunEpoch names this engine process in DVP_RUN.
var sshRunEpoch = sync.OnceValue(func() string { return randomHex(4) })

// sshSwept are the environments (envTag) whose earlier engine processes'
// leftovers this process has killed.
var sshSwept sync.Map

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// envTag names an environment of an engine in DVP_RUN: its scratch path
// is the engine's and the environment's alone (~/.dvp-scratch/<engine
// id>/<reference>).
func (s *sshExec) envTag() string {
	sum := sha256.Sum256([]byte(s.env.User + "@" + s.env.Host + ":" + s.env.ScratchPath + ":" + s.env.Reference))
	return hex.EncodeToString(sum[:6])
}

// newRunTag is the DVP_RUN value of one command.
func (s *sshExec) newRunTag() string {
	return s.envTag() + "." + sshRunEpoch() + "." + randomHex(6)
}

// tagged runs remoteCmd (a bash reading its script from stdin) with
// DVP_RUN=tag in its environment.
func tagged(remoteCmd, tag string) string {
	if !strings.HasPrefix(remoteCmd, "bash ") {
		return remoteCmd
	}
	return "env DVP_RUN=" + tag + " " + remoteCmd
}

// killScript kills, for a few rounds (a process may fork as it dies), the
// processes of the SSH user whose DVP_RUN matches the case pattern
// $DVP_KILL and not $DVP_KEEP, and prints how many. A process killed in
// one round is not killed (and counted) again in the next: SIGKILL takes
// effect asynchronously, so it can still be listed, with its environment.
// Hosts without /proc have none to find.
const killScript = `n=0
killed=" "
for round in 1 2 3 4 5; do
  found=
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = "$$" ] && continue
    case "$killed" in *" $pid "*) continue ;; esac
    v=
    while IFS= read -r -d '' e; do
      case "$e" in DVP_RUN=*) v=${e#DVP_RUN=}; break ;; esac
    done 2>/dev/null < "$d/environ"
    [ -n "$v" ] || continue
    case "$v" in $DVP_KILL) ;; *) continue ;; esac
    case "$v" in $DVP_KEEP) continue ;; esac
    kill -KILL "$pid" 2>/dev/null && { found=1; n=$((n+1)); killed="$killed$pid "; }
  done
  [ -z "$found" ] && break
done
echo "$n"`

// killRemote runs killScript on c for the pattern kill (keeping keep),
// bounded in time; it returns how many processes it killed.
func killRemote(c *ssh.Client, kill, keep string) (int, error) {
	sc, err := script(killScript, map[string]string{"DVP_KILL": kill, "DVP_KEEP": keep})
	if err != nil {
		return 0, err
	}
	sess, err := c.NewSession()
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	sess.Stdin = strings.NewReader(sc)
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := sess.Output("bash -s")
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return 0, r.err
		}
		var n int
		fmt.Sscan(string(r.out), &n)
		return n, nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("the clean-up of processes did not end in 30s")
	}
}

// killRun kills what the command tagged tag left running (a cancel).
func (s *sshExec) killRun(c *ssh.Client, tag string) {
	killRemote(c, tag, "")
}

// sweep kills, once per engine process and environment, what earlier
// engine processes' commands left running there (a crash of the engine
// cut them off).
func (s *sshExec) sweep(c *ssh.Client) {
	if s.env.ScratchPath == "" {
		return // the first check of a new environment: nothing of it ran yet, and its tag is not yet its engine's alone
	}
	env := s.envTag()
	if _, done := sshSwept.LoadOrStore(env, true); done {
		return
	}
	killRemote(c, env+".*", env+"."+sshRunEpoch()+".*")
}
