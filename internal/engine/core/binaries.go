package core

import (
	"context"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/internal/engine/store"
)

// retireBinaries removes the extracted executables of the codes sums that
// no installed plugin uses any more (an upgrade replaced them, a refused
// upgrade extracted them for its migrations, a delete removed their
// plugin): the runner removes each once no plugin process runs it. What
// a crash leaves is removed at the next start (RecoverObjects).
func (e *Engine) retireBinaries(ctx context.Context, sums ...string) {
	var extracted []string // most codes were never run: no list to read
	for _, sum := range sums {
		if sum == "" || filepath.Base(sum) != sum {
			continue
		}
		if _, err := os.Lstat(filepath.Join(e.cfg.DataDir, store.PluginBinDir, sum)); err == nil {
			extracted = append(extracted, sum)
		}
	}
	if len(extracted) == 0 {
		return
	}
	tks, err := e.store.Toolkits(ctx)
	if err != nil {
		e.cfg.Log.Error("listing the installed plugins to remove old executables", "error", err)
		return
	}
	installed := map[string]bool{}
	for _, t := range tks {
		installed[t.SourceSHA256] = true
	}
	for _, sum := range extracted {
		if installed[sum] {
			continue
		}
		if err := e.runner.RetireBinary(sum); err != nil {
			e.cfg.Log.Error("removing the executable of a build no longer installed", "code", sum, "error", err)
		}
	}
}
