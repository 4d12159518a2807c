package plugintest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/plugintest"
)

// A call no rule answers fails the test with a message that says why: no
// rule of that library, rules whose matchers do not select it, or a
// matching rule whose Times are used up — and the On function to script it.
func TestUnexpectedCallSaysWhyNoRuleAnswered(t *testing.T) {
	in := plugintest.In{StagedSource: plugintest.StagedSource(params{Host: "h"}), Repository: empty{}, SourceConfig: empty{}}
	cases := map[string]struct {
		op    func(ctx context.Context, in linkedIn) error
		rules func(pt *plugintest.Platform)
		want  []string
	}{
		"no rule": {
			op: func(ctx context.Context, in linkedIn) error {
				_, err := libs.RunExpect(ctx, in.StagedSource.StagedConnection, "spawn ssh h")
				return err
			},
			rules: func(pt *plugintest.Platform) {
				pt.OnRunBash(plugintest.AnyCall(), libs.RunResult{}) // another library
			},
			want: []string{`unexpected run_expect call in linked.pre_snapshot(): command "spawn ssh h"`,
				"no rule for run_expect was added: script it with OnRunExpect"},
		},
		"matchers select other calls": {
			op: func(ctx context.Context, in linkedIn) error {
				_, err := libs.RunPowershell(ctx, in.StagedSource.StagedConnection, "Get-Item C:\\data")
				return err
			},
			rules: func(pt *plugintest.Platform) {
				pt.OnRunPowershell(plugintest.Command("Get-Item D:\\data"), libs.RunResult{})
				pt.OnRunPowershell(plugintest.CommandContains("Remove-Item"), libs.RunResult{})
			},
			want: []string{`unexpected run_powershell call in linked.pre_snapshot(): command "Get-Item C:\\data"`,
				"none of the 2 rules for run_powershell matches it: script it with OnRunPowershell"},
		},
		"times used up": {
			op: func(ctx context.Context, in linkedIn) error {
				for i := 0; i < 2; i++ {
					if _, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, "df -h"); err != nil {
						return err
					}
				}
				return nil
			},
			rules: func(pt *plugintest.Platform) {
				pt.OnRunBash(plugintest.Command("df -h"), libs.RunResult{}).Times(1)
			},
			want: []string{`unexpected run_bash call in linked.pre_snapshot(): command "df -h"`,
				"1 rule matching it answered all the calls its Times allowed: raise Times, or add a rule with OnRunBash"},
		},
		"sync": {
			op: func(ctx context.Context, in linkedIn) error {
				return libs.RunSync(ctx, in.StagedSource.SourceConnection, "/data", "", nil, nil)
			},
			rules: func(pt *plugintest.Platform) {
				pt.OnRunSync(plugintest.SourceDirectory("/other"))
			},
			want: []string{`unexpected run_sync call in linked.pre_snapshot(): source directory "/data"`,
				"the rule for run_sync does not match it: script it with OnRunSync"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{TB: t}
			pt := plugintest.New(rec, testPlugin(c.op))
			c.rules(pt)
			if err := pt.Run("linked.pre_snapshot", in, nil); err == nil {
				t.Error("the operation succeeded: the unexpected call did not fail")
			}
			if len(rec.errors) != 1 {
				t.Fatalf("test errors %q, want one", rec.errors)
			}
			for _, w := range c.want {
				if !strings.Contains(rec.errors[0], w) {
					t.Errorf("test error %q\nlacks %q", rec.errors[0], w)
				}
			}
		})
	}
}
