package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

// The attacks on the engine's other objects through the platform
// libraries (internal/engine/e2e hostile_crossenv_test.go), on the
// environment named "crossenv": its discovery was given a connection to
// this environment only, and builds connections of its own to the other
// environments of the engine (references are numbered: the first ten of
// its own kind) to run commands there — on another local environment,
// with that environment's OS user, or on an SSH host with another
// environment's credentials. Each is reported as "cross-<reference>":
// "LEAKED (ran as USER)" or the refusal.
func crossAttack(ctx context.Context, conn sdk.RemoteConnection) (report, bool) {
	if conn.Environment.Name != "crossenv" {
		return nil, false
	}
	var r report
	own := conn.Environment.Reference
	prefix := own[:strings.LastIndex(own, "-")+1]
	for n := 1; n <= 10; n++ {
		ref := fmt.Sprintf("%s%d", prefix, n)
		if ref == own {
			continue
		}
		forged := conn
		forged.Environment.Reference = ref
		forged.Environment.Name = ""
		res, err := libs.RunBash(ctx, forged, "id -un")
		switch {
		case err == nil:
			r.add("cross-"+ref, "LEAKED (ran as "+strings.TrimSpace(res.Stdout)+")")
		case strings.Contains(err.Error(), "does not exist"):
			// No such environment: nothing to report.
		default:
			r.add("cross-"+ref, "refused: "+err.Error())
		}
	}
	// Its own environment still works.
	res, err := libs.RunBash(ctx, conn, "id -un")
	if err != nil {
		r.add("own", "error: "+err.Error())
	} else {
		r.add("own", "ran as "+strings.TrimSpace(res.Stdout))
	}
	return r, true
}
