#!/usr/bin/env bash
# make demo: the main job, all local. Builds dvp, starts an engine in a
# temporary directory, scaffolds a STAGED plugin, builds it, uploads it with
# --wait, shows it installed (dvp toolkit), downloads its logs, and stops
# the engine. It needs Go and a POSIX shell, nothing else.
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

# Bold headings on a terminal only (not with NO_COLOR or TERM=dumb): no
# escape codes in logs and pipes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

# Keep the demo's ~/.dvp apart from yours, but keep Go's caches warm.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)"
export HOME="$work/home"
mkdir -p "$HOME"
export DVP_ENGINE_ADMIN_PASSWORD="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

step "Start a local engine"
"$DVP" engine serve --listen 127.0.0.1:0 --data-dir "$work/engine" --ready-file "$work/engine.url" &
engine_pid=$!
# Wait for the URL file as long as the engine runs (a busy machine may take
# more than a few seconds); an engine that refuses to start says why above.
until [ -s "$work/engine.url" ]; do kill -0 "$engine_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$work/engine.url" ] || { engine_pid=""; echo "make demo: the engine did not start (its message is above)" >&2; exit 1; }
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

step "dvp toolkit list: the plugin is installed"
"$DVP" toolkit list
"$DVP" toolkit show demo-plugin

step "dvp download-logs"
(cd "$work/plugin" && "$DVP" download-logs -d "$work")
ls "$work"/dlpx-plugin-logs-*.tar.gz

step "Stop the engine"
kill -TERM "$engine_pid"; wait "$engine_pid" || true; engine_pid=""
echo
echo "Demo complete."
