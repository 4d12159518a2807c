#!/usr/bin/env bash
# make test's runner: go test -count=1 ./... of the module in the current
# directory, with the test binaries kept in BINDIR between runs.
#
#   scripts/gotest.sh BINDIR
#
# go test links every package's test binary again on each run, even when
# nothing changed (a quarter of make test's CPU time). Here one
# go test -c -o BINDIR/ writes them; the go command relinks a binary only when
# its build ID says an input changed (sources, dependencies, flags,
# toolchain), so an unchanged package's binary is reused and a changed one is
# always rebuilt. Like make test's go test, it runs no vet step (make lint
# runs go vet) and links without symbol table and DWARF (-s -w, which go test
# uses for the binaries it does not keep); it compiles with -trimpath, as
# the tests' own builds do, and with GOTEST_BUILD_LOCK set, it builds only
# while it holds that file's lock (see below). Each binary then runs in its
# package's directory with go test's flags (-test.count=1,
# -test.paniconexit0, -test.timeout=10m0s) and $GOROOT/bin first on PATH,
# JOBS packages at a time (twice the CPUs, as make test's go test -p: many
# packages wait for engines, plugins and sandboxes), the slowest of the
# previous run first (BINDIR/durations), so that no long package starts
# last. A package's output is printed whole when it ends: all of it when it
# fails, else its ok line.
set -uo pipefail

bindir=${1:?usage: scripts/gotest.sh BINDIR}
GO=${GO:-go}
JOBS=${JOBS:-$(( $(nproc 2>/dev/null || echo 1) * 2 ))}
mkdir -p "$bindir" || exit 1
bindir=$(cd "$bindir" && pwd)

# Packages with tests: import path and directory.
list=$("$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./...) || exit 1
[ -n "$list" ] || exit 0

# go test -c -o DIR/ names a binary after its package's last path element:
# one go command for all packages whose name is unique, one more for each
# package whose name another already has (the module's root package and
# cmd/dvp are both "dvp").
declare -A seen=()
first=() rest=() jobs=()
while read -r path dir; do
	base=${path##*/}
	if [ -z "${seen[$base]:-}" ]; then
		seen[$base]=1
		first+=("$path")
		jobs+=("$path $dir $bindir/$base.test")
	else
		name=$(printf '%s' "$path" | tr '/.' '__')
		rest+=("$path $bindir/$name.test")
		jobs+=("$path $dir $bindir/$name.test")
	fi
done <<<"$list"

# -trimpath: the packages compile as the test programs and plugins that
# the tests build (internal/testbuild, dvp build) and make build compile
# them, so that one compiled copy of the standard library, the SDK and
# dvp's packages serves them all (and other checkouts of the repository)
# instead of one with the checkout's paths and one without.
flags=(-c -vet=off -trimpath -ldflags='-s -w')
# The builds of make test's two modules, which run at once, take turns
# (GOTEST_BUILD_LOCK, a file both are given): the go command shares no
# work in progress with another, and on a cold build cache both compiled
# the standard library side by side. The tests then run at once.
if [ -n "${GOTEST_BUILD_LOCK:-}" ]; then
	exec 9>>"$GOTEST_BUILD_LOCK" && flock 9 || exit 1
fi
"$GO" test "${flags[@]}" -o "$bindir/" "${first[@]}" || exit 1
for r in "${rest[@]}"; do
	set -- $r
	"$GO" test "${flags[@]}" -o "$2" "$1" || exit 1
done
if [ -n "${GOTEST_BUILD_LOCK:-}" ]; then
	exec 9>&-
fi

goroot=$("$GO" env GOROOT) || exit 1
durations="$bindir/durations"

# run PATH DIR BINARY: one package, like go test.
run() {
	local path=$1 dir=$2 bin=$3 log start end code secs
	log=$(mktemp) || return 1
	start=$(date +%s.%N)
	(cd "$dir" && PATH="$goroot/bin:$PATH" "$bin" -test.paniconexit0 -test.timeout=10m0s -test.count=1) >"$log" 2>&1
	code=$?
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
	if [ $code -eq 0 ]; then
		# go test prints "no tests to run" and the like; keep its one line.
		printf 'ok  \t%s\t%ss\n' "$path" "$secs"
	else
		cat "$log"
		printf 'FAIL\t%s\t%ss\n' "$path" "$secs"
	fi
	rm -f "$log"
	printf '%s %s\n' "$path" "$secs" >>"$durations.new"
	return $code
}
export -f run
export goroot durations

# The slowest packages of the previous run first; new ones after them.
order=$(printf '%s\n' "${jobs[@]}" | awk -v f="$durations" '
	BEGIN { while ((getline line < f) > 0) { split(line, a, " "); d[a[1]] = a[2] } }
	{ printf "%s %s\n", ($1 in d ? d[$1] : -1), $0 }' | sort -s -k1,1 -g -r | cut -d' ' -f2-)

rm -f "$durations.new"
status=0
printf '%s\n' "$order" | xargs -P "$JOBS" -L 1 bash -c 'run "$@"' run || status=1
[ -f "$durations.new" ] && mv "$durations.new" "$durations"
if [ $status -ne 0 ]; then
	echo FAIL
fi
exit $status
