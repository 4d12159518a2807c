#!/usr/bin/env bash
# Runs the tutorial of docs/tutorial as a reader would (make e2e runs it from
# scripts/e2e.sh, with its sshd as the source host): every block of the pages
# 1-*.md ... 6-*.md, in order —
#   ```LANG file=PATH      the whole file PATH (relative to where the reader is)
#   ```json merge=PATH     top-level JSON members to put into PATH
#   ```sh                  commands, run
# — and nothing else: ```sh settings blocks (the reader's own paths and
# hosts) are replaced by the variables below, which the caller sets:
#   DVP            the dvp binary
#   TUTORIAL       an empty or missing working directory
#   SOURCE_HOST SOURCE_PORT SOURCE_USER   how the engine reaches the source host (SSH)
#   SOURCE_ADDRESS how the staging host's ssh reaches it
#   SSH_KEY KNOWN_HOSTS SOURCE_DATA       the key, the known hosts, the directory to copy
# Needs bash, go, rsync. Exit 0 when every step passed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "tutorial: FAIL: $*" >&2; exit 1; }
for v in DVP TUTORIAL SOURCE_HOST SOURCE_PORT SOURCE_USER SOURCE_ADDRESS SSH_KEY KNOWN_HOSTS SOURCE_DATA; do
	[ -n "${!v:-}" ] || fail "set $v (see the head of $0)"
done
command -v go >/dev/null || fail "go is not on PATH"
[ -x "$DVP" ] || fail "$DVP is not executable"

pages=("$ROOT"/docs/tutorial/[0-9]-*.md)
[ "${#pages[@]}" -ge 6 ] || fail "the tutorial's pages are missing"

BIN=$(mktemp -d /tmp/dvp-tutorial-bin.XXXXXX)
SCRIPT=$BIN/tutorial-steps.sh
trap 'rm -rf "$BIN"' EXIT
ln -s "$DVP" "$BIN/dvp"

# tutorial-merge PATH: the top-level members of the JSON object on stdin
# replace those of the object in PATH (a small Go program: Go is needed
# anyway).
mkdir -p "$BIN/merge"
cat >"$BIN/merge/main.go" <<'GO'
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	doc := map[string]json.RawMessage{}
	add := map[string]json.RawMessage{}
	b, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err == nil {
		err = json.NewDecoder(os.Stdin).Decode(&add)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tutorial-merge:", err)
		os.Exit(1)
	}
	for k, v := range add {
		doc[k] = v
	}
	out, _ := json.MarshalIndent(doc, "", "    ")
	if err := os.WriteFile(os.Args[1], append(out, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "tutorial-merge:", err)
		os.Exit(1)
	}
}
GO
printf 'module tutorialmerge\n\ngo 1.21\n' >"$BIN/merge/go.mod"
(cd "$BIN/merge" && GOFLAGS= GOWORK=off go build -o "$BIN/tutorial-merge" .) || fail "cannot build the JSON merge helper"

# The pages -> one bash script.
awk -v q="'" '
BEGIN { inblock = 0 }
{
	line = $0
	if (!inblock && match(line, /^[ ]*```[a-z]+/)) {
		indent = line; sub(/```.*/, "", indent)
		info = substr(line, length(indent) + 4)
		n = split(info, words, /[ \t]+/)
		lang = words[1]; file = ""; merge = ""; settings = 0
		for (i = 2; i <= n; i++) {
			if (words[i] ~ /^file=/) file = substr(words[i], 6)
			else if (words[i] ~ /^merge=/) merge = substr(words[i], 7)
			else if (words[i] == "settings") settings = 1
		}
		inblock = 1
		mode = "skip"
		print "# " FILENAME ": " line
		if (file != "") { mode = "file"; print "echo \"+ write " file "\""; print "mkdir -p \"$(dirname " q file q ")\""; print "cat >" q file q " <<" q "__TUTORIAL_EOF__" q }
		else if (merge != "") { mode = "file"; print "echo \"+ merge into " merge "\""; print "tutorial_merge " q merge q " <<" q "__TUTORIAL_EOF__" q }
		else if (lang == "sh" && !settings) { mode = "sh" }
		next
	}
	if (inblock && line ~ /^[ ]*```[ ]*$/) {
		if (mode == "file") print "__TUTORIAL_EOF__"
		inblock = 0
		next
	}
	if (inblock && mode != "skip") {
		if (indent != "" && index(line, indent) == 1) line = substr(line, length(indent) + 1)
		print line
	}
}
END { if (inblock) { print "unterminated block in " FILENAME > "/dev/stderr"; exit 1 } }
' "${pages[@]}" >"$SCRIPT.body"

cat >"$SCRIPT" <<'HEAD'
set -euo pipefail
tutorial_merge() { tutorial-merge "$1"; }
trap 'jobs -p | xargs -r kill 2>/dev/null; wait' EXIT
set -x
HEAD
cat "$SCRIPT.body" >>"$SCRIPT"

echo "tutorial: $(grep -c '^# .*```' "$SCRIPT") blocks from ${#pages[@]} pages"
rm -rf "$TUTORIAL"
unset DVP_ENGINE DVP_USER DVP_PASSWORD DVP_ENGINE_ADMIN_PASSWORD
export TUTORIAL SOURCE_HOST SOURCE_PORT SOURCE_USER SOURCE_ADDRESS SSH_KEY KNOWN_HOSTS SOURCE_DATA
start=$SECONDS
if ! PATH="$BIN:$PATH" bash "$SCRIPT"; then
	echo "tutorial: engine log:" >&2
	tail -n 30 "$TUTORIAL/engine.log" >&2 2>/dev/null || true
	fail "a step of the tutorial failed (the trace above names the page and the block)"
fi
echo "tutorial: PASS in $((SECONDS - start)) s"
