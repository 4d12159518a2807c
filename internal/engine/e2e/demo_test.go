//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoNeedsOnlyGo runs scripts/demo.sh (what make demo runs after make
// build) with a PATH that holds Go, a shell and the few POSIX tools the
// script names, and nothing else: no curl, no python3. It must complete,
// show the plugin installed through dvp toolkit, and, writing to a pipe,
// print no escape codes.
func TestDemoNeedsOnlyGo(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "demo.sh")
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"curl", "python", "wget", "jq"} {
		if strings.Contains(string(text), tool) {
			t.Errorf("scripts/demo.sh mentions %s: make demo must need nothing but Go", tool)
		}
	}
	// The tools: a shell and coreutils, each linked into a directory of
	// its own, and Go's own bin directory.
	bin := t.TempDir()
	for _, tool := range []string{"bash", "sh", "env", "mktemp", "realpath", "od", "tr", "rm", "mkdir", "ls", "cat", "sleep", "dirname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	goBin := filepath.Join(strings.TrimSpace(string(goroot)), "bin")
	cmd := exec.Command(filepath.Join(bin, "bash"), script)
	cmd.Dir = root
	cmd.Env = []string{
		"PATH=" + bin + string(os.PathListSeparator) + goBin,
		"HOME=" + t.TempDir(),
		"DVP=" + dvpBin,
		"TMPDIR=" + t.TempDir(),
		"TERM=xterm", // a terminal type, but stdout is a pipe: no escape codes still
	}
	// Go's caches as this test's go command has them: warm and offline.
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY"} {
		if v, err := exec.Command("go", "env", k).Output(); err == nil && strings.TrimSpace(string(v)) != "" {
			cmd.Env = append(cmd.Env, k+"="+strings.TrimSpace(string(v)))
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"== dvp toolkit list: the plugin is installed", "\tdemo-plugin\t", "dlpx-plugin-logs-demo-plugin-", "Demo complete."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("scripts/demo.sh printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "\x1b") {
		t.Errorf("scripts/demo.sh wrote an escape code into a pipe:\n%q", out)
	}
}
