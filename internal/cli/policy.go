package cli

import (
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/sched"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/spf13/cobra"
)

// PolicyOptions are the policy flags of dsource link/update (--sync-every,
// --sync-schedule) and vdb provision/update (--refresh-every,
// --refresh-schedule), with --keep-snapshots: docs/workflows.md,
// "Policies and retention".
type PolicyOptions struct {
	Every, Schedule string
	Keep            int
	op              string                      // sync | refresh
	parsed          *engineapi.PolicyParameters // by check
}

// policyHelp is the paragraph the commands with policy flags add to their
// help.
func policyHelp(op string) string {
	return `--` + op + `-every DURATION or --` + op + `-schedule CRON make the engine ` + op + ` by itself
(a policy: the runs are ordinary jobs, queued behind the object's others;
` + map[string]string{"sync": "a policy sync passes null snapshot parameters to the plugin, as on a Delphix\nengine; "}[op] +
		`a run missed while the engine was stopped runs once when it starts).
--keep-snapshots N deletes, after each sync or snapshot, the oldest
snapshots beyond the newest N, never one a VDB was provisioned from.`
}

// policyOp is the operation a container type's policy runs.
func policyOp(containerType string) string {
	if containerType == engineapi.ContainerDSource {
		return "sync"
	}
	return "refresh"
}

func addPolicyFlags(cmd *cobra.Command, o *PolicyOptions, op string) {
	o.op = op
	f := cmd.Flags()
	f.StringVar(&o.Every, op+"-every", "", op+" by itself every `DURATION` (such as 30m, 6h, 24h; at least 1s; 0 turns it off)")
	f.StringVar(&o.Schedule, op+"-schedule", "", op+" by itself on a `CRON` schedule: minute hour day-of-month month day-of-week, in the engine's time zone (such as '0 2 * * *'; '' turns it off)")
	f.IntVar(&o.Keep, "keep-snapshots", 0, "keep only the newest `N` snapshots, and those VDBs depend on (0: all)")
}

// check reads the policy of the flags given into o.parsed (nil: none
// given), or returns a usage error naming the flag.
func (o *PolicyOptions) check(cmd *cobra.Command) (err error) {
	o.parsed, err = o.params(cmd)
	return err
}

func (o *PolicyOptions) params(cmd *cobra.Command) (*engineapi.PolicyParameters, error) {
	f := cmd.Flags()
	everyFlag, schedFlag := "--"+o.op+"-every", "--"+o.op+"-schedule"
	p := &engineapi.PolicyParameters{}
	if f.Changed(o.op + "-every") {
		v := strings.TrimSpace(o.Every)
		if v == "0" || v == "off" {
			v = ""
		}
		if v != "" {
			if _, err := sched.ParseEvery(v); err != nil {
				return nil, Usagef("Invalid value for '%s': %v.", everyFlag, err)
			}
		}
		p.Every = &v
	}
	if f.Changed(o.op + "-schedule") {
		v := strings.TrimSpace(o.Schedule)
		if v != "" {
			if _, err := sched.ParseCron(v); err != nil {
				return nil, Usagef("Invalid value for '%s': %v.", schedFlag, err)
			}
		}
		p.Schedule = &v
	}
	if p.Every != nil && p.Schedule != nil && *p.Every != "" && *p.Schedule != "" {
		return nil, Usagef("Give %s or %s, not both.", everyFlag, schedFlag)
	}
	if f.Changed("keep-snapshots") {
		if o.Keep < 0 {
			return nil, Usagef("Invalid value for '--keep-snapshots': %d is negative (give the number of snapshots to keep, or 0 to keep all).", o.Keep)
		}
		k := o.Keep
		p.KeepSnapshots = &k
	}
	if p.IsZero() {
		return nil, nil
	}
	return p, nil
}

// describePolicy says a container's policy for status on a terminal ("" for
// none).
func describePolicy(p *engineapi.Policy) string {
	if p == nil {
		return ""
	}
	var parts []string
	switch {
	case p.Every != "":
		parts = append(parts, fmt.Sprintf("%s every %s, next at %s", p.Operation, p.Every, p.NextRun))
	case p.Schedule != "":
		parts = append(parts, fmt.Sprintf("%s on %q, next at %s", p.Operation, p.Schedule, p.NextRun))
	}
	if p.KeepSnapshots > 0 {
		parts = append(parts, fmt.Sprintf("keeps the newest %d snapshot(s)", p.KeepSnapshots))
	}
	if p.LastSkipped != "" {
		parts = append(parts, p.LastSkipped)
	}
	return "Policy: " + strings.TrimSuffix(strings.Join(parts, "; "), ".") + ".\n"
}
