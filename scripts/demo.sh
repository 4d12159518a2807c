#!/usr/bin/env bash
# make demo: the main job, all local. Builds dvp, starts an engine in a
# temporary directory, scaffolds a STAGED plugin, builds it, uploads it with
# --wait, shows it installed, downloads its logs, and stops the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

DVP=$(realpath "${DVP:-bin/dvp}")
work=$(mktemp -d "${TMPDIR:-/tmp}/dvp-demo.XXXXXX")
engine_pid=""
cleanup() {
  if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2>/dev/null; then
    kill -TERM "$engine_pid" && wait "$engine_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Keep the demo's ~/.dvp apart from yours, but keep Go's caches warm.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)"
export HOME="$work/home"
mkdir -p "$HOME"
export DVP_ENGINE_ADMIN_PASSWORD="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

step "Start a local engine"
"$DVP" engine serve --listen 127.0.0.1:0 --data-dir "$work/engine" --ready-file "$work/engine.url" &
engine_pid=$!
for _ in $(seq 1 100); do [ -s "$work/engine.url" ] && break; sleep 0.1; done
[ -s "$work/engine.url" ] || { echo "the engine did not start" >&2; exit 1; }
engine=$(cat "$work/engine.url")
export DVP_ENGINE="$engine" DVP_USER=admin DVP_PASSWORD="$DVP_ENGINE_ADMIN_PASSWORD"

step "dvp init -s STAGED -n demo-plugin"
mkdir -p "$work/plugin"
"$DVP" -v init -r "$work/plugin" -s STAGED -n demo-plugin
ls -A "$work/plugin" "$work/plugin/src"

step "dvp build"
(cd "$work/plugin" && "$DVP" build)

step "dvp upload --wait"
(cd "$work/plugin" && "$DVP" -v upload --wait)

step "The plugin is installed (GET delphix/toolkit)"
jar="$work/cookies"
api="$engine/resources/json/delphix"
curl -sf -c "$jar" -b "$jar" -H 'Content-Type: application/json' -d '{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}' "$api/session" >/dev/null
curl -sf -c "$jar" -b "$jar" -H 'Content-Type: application/json' -d "{\"type\": \"LoginRequest\", \"username\": \"admin\", \"password\": \"$DVP_PASSWORD\"}" "$api/login" >/dev/null
curl -sf -b "$jar" "$api/toolkit" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["result"]:
    print("  %s  %s  build %s  %s" % (t["reference"], t["name"], t.get("version") or t.get("buildNumber"), t["language"]))
' 2>/dev/null || curl -sf -b "$jar" "$api/toolkit"

step "dvp download-logs"
(cd "$work/plugin" && "$DVP" download-logs -d "$work")
tar -tzf "$work"/dlpx-plugin-logs-*.tar.gz

step "Stop the engine"
kill -TERM "$engine_pid"; wait "$engine_pid" || true; engine_pid=""
echo
echo "Demo complete."
