package build

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func stepNames(res *Result) []string {
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
	}
	return names
}

// TestStepsAreTimedAndLogged: every step that runs is recorded in order
// with its duration and logged at Debug; a failing step stops the pipeline
// after it; the SDK copy is an option (here one that fails), not a package
// variable.
func TestStepsAreTimedAndLogged(t *testing.T) {
	dir := fixture(t)
	var logBuf bytes.Buffer
	res := runBuild(t, dir, func(o *Options) {
		o.Log = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.SyncSDK = func(root string) (bool, error) {
			if root != dir {
				t.Errorf("SyncSDK(%q), want the project root %q", root, dir)
			}
			return false, errors.New("disk on fire")
		}
	})
	if got := stepNames(res); !slices.Equal(got, []string{"validate", "sdk"}) {
		t.Fatalf("steps %v", got)
	}
	if !res.Failed() || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "cannot update the project's copy of the SDK: disk on fire") ||
		res.Problems[0].File != filepath.Join(dir, ".dvp", "sdk") {
		t.Fatalf("problems %v", res.Problems)
	}
	for _, name := range []string{"validate", "sdk"} {
		if !strings.Contains(logBuf.String(), `msg="build step" step=`+name+" duration=") {
			t.Errorf("no debug record for step %s in:\n%s", name, logBuf.String())
		}
	}

	// A project that does not validate stops after the first step.
	edit(t, filepath.Join(dir, "plugin_config.yml"), "buildNumber:", "buildNumber: x\nbuildNumbr:")
	res = runBuild(t, dir, func(o *Options) {
		o.SyncSDK = func(string) (bool, error) { t.Error("SyncSDK ran after a failed validation"); return false, nil }
	})
	if got := stepNames(res); !slices.Equal(got, []string{"validate"}) || !res.Failed() {
		t.Fatalf("steps %v, problems %v", got, res.Problems)
	}
}
