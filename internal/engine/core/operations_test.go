package core

import (
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// The container operations are written once: every operation of the API
// contract has its behaviour in containerOps, and containerOps has nothing
// the contract does not route.
func TestContainerOpsMatchTheContract(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range engineapi.ContainerOps {
		seen[o.Name] = true
		op, ok := containerOps[o.Name]
		if !ok {
			t.Errorf("%s: in engineapi.ContainerOps, not in containerOps", o.Name)
			continue
		}
		if op.run == nil || op.actionType == "" {
			t.Errorf("%s: no job or action type", o.Name)
		}
	}
	for name := range containerOps {
		if !seen[name] {
			t.Errorf("%s: in containerOps, not in engineapi.ContainerOps", name)
		}
	}
}
