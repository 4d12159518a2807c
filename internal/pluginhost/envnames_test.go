package pluginhost

import (
	"strings"
	"testing"
)

// TestVariableNamesChecked: a plugin that speaks the protocol itself (the
// SDK refuses such names) sends run_bash, run_expect and run_powershell
// with variable names that are not environment variable names: one with a
// newline, one with "=" (it would set PATH), one with a NUL, one starting
// with a digit, an empty one. Each is refused before anything runs, with a
// library error naming the method, the variables field and the name
// (escaped); a valid name still runs.
func TestVariableNamesChecked(t *testing.T) {
	f := scriptFixture(t, scriptHello+`
conn='"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}}'
send() { echo '{"type":"request","id":"'$1'","call":"c1","method":"'$2'","params":{'"$conn"',"command":"echo ran","variables":{'"$3"':"v"}}}' >&3; read -r response; echo "$response" | grep -o '"message":"[^}]*' ; }
exec 3>&1
out=$( {
send r1 run_bash '"A\nB"'
send r2 run_bash '"PATH=/tmp/evil:/usr/bin"'
send r3 run_expect '"X\u0000Y"'
send r4 run_powershell '"1A"'
send r5 run_bash '""'
send r6 run_bash '"GOOD_1"'
} | tr -d '"\\' | tr '\n' '|')
echo '{"type":"result","id":"c1","output":"'"$out"'"}'
read -r next
`)
	raw, err := f.Call(ctxTimeout(t, 60e9), "virtual.configure", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(strings.Trim(string(raw), `"`), "|"), "|")
	want := []string{
		"run_bash have in variables the name A\nB",
		"run_bash have in variables the name PATH=/tmp/evil:/usr/bin",
		"run_expect have in variables the name X\x00Y",
		"run_powershell have in variables the name 1A",
		"run_bash have in variables the name ,",
	}
	if len(got) != 5 {
		t.Fatalf("answers: %q; want 5 refusals (the valid name runs and has no message)", got)
	}
	for i, w := range want {
		w = strings.NewReplacer("\n", "n", "\x00", "x00").Replace(w)
		if !strings.Contains(got[i], w) || !strings.Contains(got[i], "which is not a valid environment variable name") {
			t.Errorf("answer %d: %q; want a refusal containing %q", i+1, got[i], w)
		}
	}
}
