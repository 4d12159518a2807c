package pluginhost

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginMessageBounded: a plugin that sends a library request longer
// than MaxPluginMessage (a script of 9 MB) breaks the protocol: the engine
// reads no more of it than the limit, kills the plugin and says why. It
// made the engine hold the request up to 192 MiB, 16 at once.
func TestPluginMessageBounded(t *testing.T) {
	f := scriptFixture(t, scriptHello+`
{ printf '{"type":"request","id":"r1","call":"c1","method":"run_expect","params":{"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}},"command":"'; head -c 9000000 /dev/zero | tr '\0' x; printf '"}}\n'; }
read -r response
echo '{"type":"result","id":"c1","output":"answered"}'
read -r next
`)
	f.fail(t, nil, "virtual.configure", map[string]any{}, KindProtocol,
		"The plugin broke the runtime protocol during the virtual.configure() operation (the plugin sent a message longer than the 8388608-byte (8 MiB) limit of a plugin's messages)")
}

// TestLibraryMemoryBudget: four run_bash calls at once, each printing
// 1.5 MB, from a plugin process whose budget holds one of them: the calls
// that would take the budget over its limit are refused saying why, the
// others return their whole output, and nothing stays charged once the
// operation ends. Without the budget, 16 calls printing 2 x 64 MiB each
// made the engine hold gigabytes.
func TestLibraryMemoryBudget(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	engine := NewMemoryBudget(16 << 20) // 8 MiB per plugin process
	f := newFixture(t, "staged", func(o *Options) {
		o.Memory = engine
		o.Binary = writeScript(t, scriptHello+`
for i in 1 2 3 4; do
  echo '{"type":"request","id":"r'$i'","call":"c1","method":"run_bash","params":{"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}},"command":"head -c 1500000 /dev/zero | tr \"\\\\0\" x; touch `+dir+`/done'$i'; while [ $(ls `+dir+` | wc -l) -lt 4 ]; do sleep 0.05; done"}}'
done
head -n 4 > `+out+`/responses
ok=$(grep -c '"exit_code":0,"stdout":"xxxxxxxx' `+out+`/responses)
refused=$(grep -c 'was refused: it needs.*of one plugin process running at once already hold.*dvp engine serve --max-library-memory' `+out+`/responses)
echo '{"type":"result","id":"c1","output":"'$ok' ok, '$refused' refused"}'
read -r next
`)
	})
	var got string
	f.call(t, "virtual.configure", map[string]any{}, &got)
	if got != "1 ok, 3 refused" && got != "2 ok, 2 refused" && got != "3 ok, 1 refused" {
		b, _ := os.ReadFile(filepath.Join(out, "responses"))
		t.Errorf("4 calls printing 1.5 MB each with an 8 MiB budget: %s; want some whole outputs and some refusals\n%.3000s", got, b)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "responses")); bytes.Count(b, []byte("x")) < 1500000 {
		t.Errorf("no whole output among the responses")
	}
	if n := engine.Used(); n != 0 {
		t.Errorf("%d bytes stay charged to the engine's budget after the operation", n)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, "done*")); len(ents) != 4 {
		t.Errorf("%d of the 4 commands ran", len(ents))
	}
}

// TestWriteJSONString: a run result is encoded as it is written; the text
// is what encoding/json writes, and its length is counted beforehand.
func TestWriteJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c\nd\re\tf", "\x00\x01\x1f<>&", "é\u2028\u2029€😀", "bad \xff\xfe utf8 \xe2\x82", strings.Repeat("x<", 40000)} {
		var b bytes.Buffer
		if err := writeJSONString(&b, s); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(s)
		if got := `"` + b.String() + `"`; got != string(want) {
			t.Errorf("%q: wrote %.200s, encoding/json %.200s", s, got, want)
		}
		if n := jsonStringLen(s); n != b.Len() {
			t.Errorf("%q: counted %d, wrote %d", s, n, b.Len())
		}
	}
}
