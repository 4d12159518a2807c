package pluginhost

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPluginThatStopsReadingIsStopped: a plugin that does not read its
// input blocks the engine's writes to it once the pipe is full (64 KiB).
// The call's input, the answers to its library requests, the cancel and
// the shutdown were written while the caller waited, so such a plugin
// made its operation, its job and the engine's stop wait forever, past
// every deadline. Now the deadline ends the call and the process.
func TestPluginThatStopsReadingIsStopped(t *testing.T) {
	for _, c := range []struct {
		name, script string
		input        int
	}{
		// It never reads its call (whose input is 1 MiB).
		{"input", "read -r hello\necho '{\"type\":\"hello\",\"version\":1,\"sdk_version\":\"script\",\"plugin_type\":\"STAGED\"}'\nexec sleep 600\n", 1 << 20},
		// It reads its call, asks for 1 MiB of output 8 times, and reads
		// no answer.
		{"responses", scriptHello + `for i in 1 2 3 4 5 6 7 8; do
  echo '{"type":"request","id":"r'$i'","call":"c1","method":"run_bash","params":{"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}},"command":"head -c 1000000 /dev/zero | tr \"\\\\0\" x"}}'
done
exec sleep 600
`, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "staged", func(o *Options) {
				o.Binary = writeScript(t, c.script)
				o.CancelGrace = 200 * time.Millisecond
			})
			// The process is started (its handshake done) first: the
			// deadline is for the call, which a busy machine would
			// otherwise spend starting the shell.
			f.start(t)
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				defer cancel()
				_, err := f.Call(ctx, "virtual.configure", map[string]string{"blob": strings.Repeat("i", c.input)})
				done <- err
			}()
			select {
			case err := <-done:
				pe, ok := err.(*PluginError)
				if !ok || pe.Kind != KindTimeout {
					t.Fatalf("got %v (%T), want a timeout", err, err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("the call did not return a minute after its deadline: the engine waits for a plugin that does not read")
			}
			closed := make(chan struct{})
			go func() { f.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(60 * time.Second):
				t.Fatal("Close did not return")
			}
		})
	}
}
