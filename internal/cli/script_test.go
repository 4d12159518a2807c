package cli_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/internal/cli"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/bcrypt"
)

// TestMain lets the test binary act as the dvp binary inside scripts, so the
// scripts run the real command line end to end, in a separate process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dvp": func() {
			// Every command of a script logs in to its engine anew: its
			// password checks use bcrypt's least cost, as the engine's
			// package tests do.
			app := &cli.App{IO: cli.SystemIO(), Version: "0.1.0-test", EngineBcryptCost: bcrypt.MinCost}
			os.Exit(app.Main(os.Args[1:]))
		},
	})
}

// TestScripts runs testdata/script/*.txtar: each is a little project on
// disk and the dvp commands run on it, with their expected output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "script"),
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("DVP_ENGINE", "")
			env.Setenv("DVP_USER", "")
			env.Setenv("DVP_PASSWORD", "")
			env.Setenv("SHARED", sharedDir())
			// Completion from an engine gives up after 1.5 s; on a busy
			// test machine logging in alone can take longer.
			env.Setenv("DVP_COMPLETION_TIMEOUT", "2m")
			// dvp build runs the go command: give it the user's build
			// and module caches (HOME is the script's), so scripts that
			// build plugins compile warm and offline.
			for k, v := range goCaches() {
				env.Setenv(k, v)
			}
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
		// [file:PATH]: PATH exists on this machine (a shell's completion package).
		Condition: func(cond string) (bool, error) {
			if p, ok := strings.CutPrefix(cond, "file:"); ok {
				_, err := os.Stat(p)
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// cmdExits runs "exits CODE dvp ARGS...": the program must exit with exactly
// CODE; its stdout and stderr stay available to the stdout/stderr checks.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", args[1], got, want, ts.ReadFile("stdout"), ts.ReadFile("stderr"))
	}
}

func sharedDir() string {
	d, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared"))
	return d
}

var (
	goCachesOnce sync.Once
	goCachesEnv  map[string]string
)

// goCaches returns GOCACHE, GOMODCACHE and GOPATH as the go command of the
// test's environment sees them (none when there is no go command).
func goCaches() map[string]string {
	goCachesOnce.Do(func() {
		goCachesEnv = map[string]string{}
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
		if err != nil {
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			if i < len(lines) && lines[i] != "" {
				goCachesEnv[k] = lines[i]
			}
		}
	})
	return goCachesEnv
}
