package exec

import (
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The script that ends a cancelled SSH command's processes finds them by
// DVP_RUN, also when they left the session (here: sessions of their
// own), and spares
// the ones of the pattern to keep (the engine's running commands) and
// those without the tag. Run here with bash, as the host would.
func TestKillScriptFindsDetachedProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc")
	}
	start := func(tag string) int {
		t.Helper()
		cmd := osexec.Command("sleep", "300")
		cmd.Env = append(os.Environ(), "DVP_RUN="+tag)
		if tag == "" {
			cmd.Env = os.Environ()
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Skip(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-done })
		return cmd.Process.Pid
	}
	envTag := "e" + randomHex(5)
	cutOff := start(envTag + ".old1.r1")
	cutOff2 := start(envTag + ".old2.r2")
	running := start(envTag + ".now.r3")
	other := start("f" + randomHex(5) + ".old1.r1")
	untagged := start("")
	alive := func(pid int) bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return err == nil && !strings.Contains(string(b), ") Z ")
	}
	for _, pid := range []int{cutOff, cutOff2, running, other, untagged} {
		for i := 0; i < 2000 && !execed(pid); i++ {
			time.Sleep(time.Millisecond)
		}
	}
	sc, err := script(killScript, map[string]string{"DVP_KILL": envTag + ".*", "DVP_KEEP": envTag + ".now.*"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command("bash", "-s")
	cmd.Stdin = strings.NewReader(sc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) != "2" {
		t.Errorf("killed %q processes, want 2", out)
	}
	for _, pid := range []int{cutOff, cutOff2} {
		for i := 0; i < 2000 && alive(pid); i++ { // until the kill is seen
			time.Sleep(time.Millisecond)
		}
	}
	for name, pid := range map[string]int{"the cut-off command's": cutOff, "another cut-off command's": cutOff2} {
		if alive(pid) {
			t.Errorf("%s process %d lives", name, pid)
		}
	}
	for name, pid := range map[string]int{"a running command's": running, "another environment's": other, "an untagged": untagged} {
		if !alive(pid) {
			t.Errorf("%s process %d was killed", name, pid)
		}
	}
}

// execed says whether pid runs sleep (its environ is the command's).
func execed(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(b), "sleep")
}
