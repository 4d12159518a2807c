//go:build linux

package pluginhost

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A plugin executable that another process (here: this one) still holds
// open for writing when it is started (ETXTBSY: the engine wrote it a
// moment ago and a process forked meanwhile has not exec'd yet) is started
// again once the writer lets go, instead of failing the operation.
func TestStartRetriesATextBusyExecutable(t *testing.T) {
	src, err := os.Open(pluginPath("staged"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(t.TempDir(), "plugin")
	w, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, src); err != nil {
		t.Fatal(err)
	}
	var tries []int
	old := waitTextBusy
	waitTextBusy = func(try int) {
		tries = append(tries, try)
		if try == 2 {
			w.Close() // the writer lets go after the second busy start
		}
	}
	t.Cleanup(func() { waitTextBusy = old; w.Close() })

	f := newFixture(t, "staged", func(o *Options) { o.Binary = bin })
	var repos []struct{ Name string }
	f.call(t, "discovery.repository", map[string]any{"source_connection": connA}, &repos)
	if len(repos) != 1 {
		t.Fatalf("%+v", repos)
	}
	if len(tries) != 2 {
		t.Fatalf("%d waits for the busy executable, want 2", len(tries))
	}
}
