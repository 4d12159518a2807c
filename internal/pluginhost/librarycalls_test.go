package pluginhost

import (
	"strconv"
	"testing"
)

// TestLibraryCallsAtOnceBounded: a plugin makes 40 run_bash calls at once
// (each a sandbox of its own in the engine, with its own limits). At most
// MaxLibraryCalls run; the others are refused at once with a library error
// that says why, and the operation goes on.
func TestLibraryCallsAtOnceBounded(t *testing.T) {
	f := scriptFixture(t, scriptHello+`
for i in $(seq 1 40); do
  echo '{"type":"request","id":"r'$i'","call":"c1","method":"run_bash","params":{"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}},"command":"sleep 2"}}'
done
refused=0
for i in $(seq 1 40); do
  read -r response
  case "$response" in *"library calls of this plugin already run at once"*) refused=$((refused+1)) ;; esac
done
echo '{"type":"result","id":"c1","output":'$refused'}'
read -r next
`)
	raw, err := f.Call(ctxTimeout(t, 60e9), "virtual.configure", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(string(raw)); n != 40-MaxLibraryCalls {
		t.Errorf("%s of 40 calls at once were refused, want %d", raw, 40-MaxLibraryCalls)
	}
}
