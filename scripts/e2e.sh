#!/usr/bin/env bash
# End-to-end test of the local engine running the seed plugin (make e2e).
#
# It installs nothing: it needs sshd (apt package openssh-server), ssh
# (openssh-client), rsync and bash, and root (or a user that may write
# /etc/ssh/ssh_config.d and /run/sshd). It starts an sshd on 127.0.0.1 (a
# free port, generated host and user keys, StrictModes no) as the source
# host, an engine, builds and uploads the seed plugin, adds a local staging
# environment and the SSH source environment, links and syncs a dSource,
# changes the source and syncs again, provisions a VDB from the first
# snapshot, downloads the plugin's logs, checks the failure paths (a
# wrong source address, a plugin that panics), and follows the tutorial of
# docs/tutorial with scripts/tutorial.sh (this sshd as its source host, an
# engine of its own), and runs dvp test on the seed's dvptest.yml (the same
# scenario on a private engine). Everything it creates is
# removed at the end (KEEP=1 keeps the work directory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DVP=${DVP:-$ROOT/bin/dvp}
case "$DVP" in /*) ;; *) DVP=$ROOT/$DVP ;; esac

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
step() { echo; echo "=== $*"; }

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || fail "sshd is not installed (apt-get install -y openssh-server)"
for tool in ssh ssh-keygen ssh-keyscan rsync; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install -y openssh-server openssh-client rsync)"
done
[ -x "$DVP" ] || fail "$DVP does not exist: run make build first"

WORK=$(mktemp -d /tmp/dvp-e2e.XXXXXX)
SNIPPET=/etc/ssh/ssh_config.d/dvp-e2e-$$.conf
ALIAS=dvp-e2e-source-$$
SSHD_PID=
ENGINE_PID=
cleanup() {
	rc=$?
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null || true
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null || true
	rm -f "$SNIPPET"
	# The engine's scratch paths (its local and SSH environments are this user's).
	[ -n "${SSH_SCRATCH:-}" ] && rm -rf "$(dirname "$SSH_SCRATCH")"
	if [ "$rc" -ne 0 ]; then
		echo "e2e: engine log:" >&2
		tail -n 40 "$WORK/engine.log" >&2 2>/dev/null || true
	fi
	if [ "${KEEP:-}" = 1 ]; then echo "e2e: kept $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ME=$(id -un)

step "sshd on 127.0.0.1 as the source host"
mkdir -p /run/sshd "$WORK/ssh"
chmod 700 "$WORK/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_ed25519" -C dvp-e2e-host
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id_ed25519" -C dvp-e2e-user
cp "$WORK/ssh/id_ed25519.pub" "$WORK/ssh/authorized_keys"
for _ in $(seq 1 20); do
	PORT=$((20000 + RANDOM % 40000))
	cat >"$WORK/ssh/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh/host_ed25519
AuthorizedKeysFile $WORK/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $WORK/ssh/sshd.pid
Subsystem sftp internal-sftp
EOF
	"$SSHD" -D -e -f "$WORK/ssh/sshd_config" 2>>"$WORK/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 1 50); do
		if ssh-keyscan -T 1 -t ed25519 -p "$PORT" 127.0.0.1 >"$WORK/ssh/known_hosts" 2>/dev/null && [ -s "$WORK/ssh/known_hosts" ]; then
			break 2
		fi
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$SSHD_PID" 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=
done
[ -n "$SSHD_PID" ] || { cat "$WORK/sshd.log" >&2; fail "sshd did not start"; }
echo "sshd pid $SSHD_PID on 127.0.0.1:$PORT"

# The seed runs 'rsync -r user@ADDRESS:path mount' on the staging host:
# ADDRESS is a host alias that every ssh of this machine resolves to the
# test sshd (OpenSSH reads ~/.ssh from the passwd entry, not $HOME).
cat >"$SNIPPET" <<EOF
Host $ALIAS
	HostName 127.0.0.1
	Port $PORT
	User $ME
	IdentityFile $WORK/ssh/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $WORK/ssh/known_hosts
	StrictHostKeyChecking yes
	BatchMode yes
EOF
ssh "$ALIAS" true || fail "ssh to the test sshd through $SNIPPET does not work"

step "source data"
SRC=$WORK/source/data
mkdir -p "$SRC/sub"
echo "version 1" >"$SRC/a.txt"
echo "unchanged" >"$SRC/sub/b.txt"

step "engine"
export DVP_ENGINE_ADMIN_PASSWORD=e2e-secret DVP_USER=admin DVP_PASSWORD=e2e-secret
"$DVP" engine serve --listen 127.0.0.1:0 --data-dir "$WORK/engine" --ready-file "$WORK/engine.url" >"$WORK/engine.log" 2>&1 &
ENGINE_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/engine.url" ] && break; sleep 0.1; done
[ -s "$WORK/engine.url" ] || fail "the engine did not start"
export DVP_ENGINE
DVP_ENGINE=$(cat "$WORK/engine.url")
echo "engine at $DVP_ENGINE"

step "build and upload the seed plugin"
cp -r "$ROOT/testdata/plugins/seed-rsync" "$WORK/plugin"
rm -rf "$WORK/plugin/.dvp" "$WORK/plugin/build" "$WORK/plugin/artifact.json"
cp "$ROOT/testdata/e2e/seed_logging.go.txt" "$WORK/plugin/src/e2e_logging.go"
"$DVP" build -c "$WORK/plugin/plugin_config.yml" -a "$WORK/artifact.json"
"$DVP" upload -a "$WORK/artifact.json" --wait

step "environments"
"$DVP" environment add staging --local
SSH_REF=$("$DVP" environment add source --host "$ME@127.0.0.1" --port "$PORT" \
	--ssh-key "$WORK/ssh/id_ed25519" --known-hosts "$WORK/ssh/known_hosts")
"$DVP" environment list
SSH_HOME=$(getent passwd "$ME" | cut -d: -f6)
SSH_SCRATCH=$("$DVP" environment list -o json | grep -o "\"scratchPath\": \"$SSH_HOME/.dvp-scratch/[0-9a-f]\{12\}/$SSH_REF\"" | cut -d'"' -f4)
[ -n "$SSH_SCRATCH" ] || fail "the SSH environment's scratch path is not ~/.dvp-scratch/<engine id>/<reference> in the SSH user's home"
[ "$(stat -c %a "$SSH_SCRATCH")" = 700 ] || fail "the SSH environment's scratch path $SSH_SCRATCH is not private to its user"
echo "SSH scratch path $SSH_SCRATCH"

step "the SSH host key is verified"
: >"$WORK/ssh/empty_known_hosts"
if out=$("$DVP" environment add impostor --host "$ME@127.0.0.1" --port "$PORT" \
	--ssh-key "$WORK/ssh/id_ed25519" --known-hosts "$WORK/ssh/empty_known_hosts" 2>&1); then
	fail "an unknown host key was accepted"
fi
echo "$out" | tail -n 2
grep -q 'is not in' <<<"$out" || fail "the refusal does not say the host key is unknown"

step "parameters are validated before anything runs"
if out=$("$DVP" source-config add bad --environment source --repository "Repository for our First Plugin" --params '{"name": "bad"}' 2>&1); then
	fail "a source config without path was accepted"
fi
echo "$out"
grep -q '/path' <<<"$out" || fail "the validation error does not name /path"

step "source config, link and first sync"
"$DVP" source-config add data --environment source --repository "Repository for our First Plugin" \
	--params "{\"name\": \"data\", \"path\": \"$SRC\"}"
"$DVP" dsource link ds1 --source-config data --staging-environment staging \
	--params "{\"sourceAddress\": \"$ALIAS\", \"username\": \"$ME\", \"mountLocation\": \"$WORK/mnt/ds1\"}"
snaps() { "$DVP" snapshot list ds1 | cut -f1; }
SNAP1=$(snaps | sed -n 1p)
[ -n "$SNAP1" ] || fail "the first sync made no snapshot"
S1=$WORK/engine/snapshots/$SNAP1/data
[ "$(cat "$S1/data/a.txt")" = "version 1" ] || fail "snapshot $SNAP1 does not hold the source files"
[ "$(cat "$S1/data/sub/b.txt")" = "unchanged" ] || fail "snapshot $SNAP1 misses sub/b.txt"
[ -L "$WORK/mnt/ds1" ] || fail "the staging mount $WORK/mnt/ds1 is not a link to the storage"
echo "snapshot $SNAP1 holds the source files"

step "change the source and sync again"
echo "version 2, changed" >"$SRC/a.txt"  # another size: rsync -r compares size and mtime (seconds)
SYNCED=$("$DVP" dsource sync ds1)
SNAP2=$(snaps | sed -n 2p)
[ -n "$SNAP2" ] || fail "the second sync made no snapshot"
[ "$SYNCED" = "$SNAP2" ] || fail "dvp dsource sync printed '$SYNCED', not the new snapshot $SNAP2"
[ "$(cat "$WORK/engine/snapshots/$SNAP2/data/data/a.txt")" = "version 2, changed" ] || fail "snapshot $SNAP2 does not have the change"
[ "$(cat "$S1/data/a.txt")" = "version 1" ] || fail "snapshot $SNAP1 changed"
echo "snapshot $SNAP2 has the change; $SNAP1 does not"

step "provision a VDB from the first snapshot"
"$DVP" vdb provision vdb1 --snapshot "$SNAP1" --environment staging --params "{\"mountLocation\": \"$WORK/mnt/vdb1\"}"
[ "$(cat "$WORK/mnt/vdb1/data/a.txt")" = "version 1" ] || fail "the VDB's mount does not show the old content"
echo "changed in the VDB" >"$WORK/mnt/vdb1/data/a.txt"
[ "$(cat "$S1/data/a.txt")" = "version 1" ] || fail "writing to the VDB changed the snapshot"
"$DVP" vdb stop vdb1
"$DVP" vdb start vdb1
[ "$("$DVP" vdb status vdb1)" = ACTIVE ] || fail "dvp vdb status does not print ACTIVE on stdout"
"$DVP" vdb snapshot vdb1
"$DVP" vdb refresh vdb1
[ "$(cat "$WORK/mnt/vdb1/data/a.txt")" = "version 2, changed" ] || fail "the refreshed VDB does not show the newest snapshot"
echo "VDB mount shows the old content; after refresh, the newest"

step "a VDB on the SSH environment (mounted by rsync over ssh), with a hook run there"
"$DVP" vdb provision vdb-ssh --snapshot "$SNAP1" --environment source --params "{\"mountLocation\": \"$WORK/mnt/vdb-ssh\"}" \
	--hook "configure-clone=id -un > $WORK/ssh-hook-user; echo configured over ssh" 2>"$WORK/provision-ssh.err" ||
	{ cat "$WORK/provision-ssh.err" >&2; fail "provisioning a VDB on the SSH environment failed"; }
cat "$WORK/provision-ssh.err" >&2
[ "$(cat "$WORK/ssh-hook-user")" = "$ME" ] || fail "the configure-clone hook did not run over SSH as $ME"
grep -q "configure-clone: configured over ssh" "$WORK/provision-ssh.err" || fail "the hook's output is not among the job's events"
[ "$(cat "$WORK/mnt/vdb-ssh/data/a.txt")" = "version 1" ] || fail "the SSH VDB's mount does not show the snapshot"
[ ! -L "$WORK/mnt/vdb-ssh" ] || fail "the SSH VDB's mount is a link, not a copy"
echo "written on the host" >"$WORK/mnt/vdb-ssh/data/new.txt"
VSNAP=$("$DVP" vdb snapshot vdb-ssh)
[ "$VSNAP" = "$("$DVP" snapshot list vdb-ssh | cut -f1 | tail -n 1)" ] || fail "dvp vdb snapshot printed '$VSNAP', not the new snapshot"
[ "$(cat "$WORK/engine/snapshots/$VSNAP/data/data/new.txt")" = "written on the host" ] || fail "the SSH VDB's snapshot misses what was written on the host"

step "a cancelled job leaves no process on the SSH host, even one started with setsid nohup"
MARK=dvp-e2e-detached-$$
"$DVP" vdb update vdb-ssh --hook "pre-snapshot=setsid nohup sh -c 'sleep 600; :' $MARK >/dev/null 2>&1 & sleep 600"
"$DVP" vdb snapshot vdb-ssh >"$WORK/cancel.out" 2>&1 &
SNAP_PID=$!
for _ in $(seq 1 600); do pgrep -f "$MARK" >/dev/null && break; sleep 0.1; done
pgrep -f "$MARK" >/dev/null || { cat "$WORK/cancel.out" >&2; fail "the hook's detached process never started"; }
JOB=$(grep -o 'Started job JOB-[0-9]*' "$WORK/cancel.out" | head -n 1 | cut -d' ' -f3)
[ -n "$JOB" ] || fail "dvp vdb snapshot did not print its job first"
"$DVP" job cancel "$JOB"
wait "$SNAP_PID" || true
for _ in $(seq 1 100); do pgrep -f "$MARK" >/dev/null || break; sleep 0.1; done
if pgrep -af "$MARK"; then fail "a process the cancelled job $JOB started with setsid nohup outlived it on the SSH host"; fi
"$DVP" vdb update vdb-ssh --hook "pre-snapshot="
echo "job $JOB cancelled; nothing it started is left on the host"

"$DVP" vdb delete vdb-ssh
[ ! -e "$WORK/mnt/vdb-ssh" ] || fail "the SSH VDB's copy is still on the host"
echo "the SSH VDB was copied there, snapshotted back, removed"

step "environment update: checked before it is kept, refused while in use"
if out=$("$DVP" environment update source --host 127.0.0.2 2>&1); then
	fail "the host of an environment a dSource uses changed"
fi
grep -q 'dSource ds1' <<<"$out" || fail "the refusal does not name the dSource: $out"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/unknown_key" -C dvp-e2e-unknown
if out=$("$DVP" environment update source --ssh-key "$WORK/ssh/unknown_key" 2>&1); then
	fail "a key the host refuses was kept"
fi
grep -q 'Cannot run commands on environment source' <<<"$out" || fail "the failed check does not say why: $out"
"$DVP" environment list -o json | grep -q "\"sshKeyFile\": \"$WORK/ssh/id_ed25519\"" || fail "a failed update changed the environment"
cp "$WORK/ssh/id_ed25519" "$WORK/ssh/id_copy"
chmod 600 "$WORK/ssh/id_copy"
"$DVP" environment update source --ssh-key "$WORK/ssh/id_copy"
"$DVP" environment list -o json | grep -q "\"sshKeyFile\": \"$WORK/ssh/id_copy\"" || fail "the new key was not kept"
echo "a wrong key is refused by the check; a working one is kept; a used environment keeps its host"

step "failure: a wrong source address"
if out=$("$DVP" dsource link ds-bad --source-config data --staging-environment staging \
	--params "{\"sourceAddress\": \"no-such-host.invalid\", \"username\": \"$ME\", \"mountLocation\": \"$WORK/mnt/ds-bad\"}" 2>&1); then
	fail "a link with a wrong source address succeeded"
fi
echo "$out" | tail -n 8
grep -q 'Could not copy files. Please ensure that passwordless SSH works for no-such-host.invalid' <<<"$out" || fail "the job did not fail with the seed's message"
if "$DVP" dsource sync ds-bad >/dev/null 2>&1; then fail "a sync with a wrong source address succeeded"; fi

step "failure: a plugin that panics"
cp -r "$ROOT/testdata/plugins/seed-rsync" "$WORK/panics"
rm -rf "$WORK/panics/.dvp" "$WORK/panics/build"
sed -i -e 's/^id: .*/id: 2b0c7a52-5a7e-4f4b-9c1e-7d1c2a3b4c5d/' -e 's/^name: .*/name: Panicking Plugin/' "$WORK/panics/plugin_config.yml"
cp "$ROOT/testdata/e2e/panic_overlay.go.txt" "$WORK/panics/src/e2e_panic.go"
"$DVP" build -c "$WORK/panics/plugin_config.yml" -a "$WORK/panics.json"
"$DVP" upload -a "$WORK/panics.json" --wait
"$DVP" environment refresh staging
"$DVP" source-config add pdata --environment staging --repository "Panicking repository" \
	--params "{\"name\": \"pdata\", \"path\": \"$SRC\"}"
if out=$("$DVP" dsource link ds-panic --source-config pdata --staging-environment staging \
	--params "{\"sourceAddress\": \"$ALIAS\", \"username\": \"$ME\", \"mountLocation\": \"$WORK/mnt/ds-panic\"}" 2>&1); then
	fail "the panicking plugin's link succeeded"
fi
echo "$out" | tail -n 6
grep -q 'panicked' <<<"$out" || fail "the job did not fail with the panic"
"$DVP" dsource list >/dev/null || fail "the engine does not answer after the panic"
kill -0 "$ENGINE_PID" || fail "the engine died"
echo "the job failed with the panic; the engine answers"

step "download the plugin's logs"
mkdir -p "$WORK/logs"
BUNDLE=$("$DVP" download-logs -c "$WORK/plugin/plugin_config.yml" -d "$WORK/logs")
mkdir -p "$WORK/logs/x"
tar -xzf "$BUNDLE" -C "$WORK/logs/x"
find "$WORK/logs/x" -type f | sed "s|$WORK/logs/x/||"
LOGDIR=$(dirname "$(find "$WORK/logs/x" -name debug.log | head -n 1)")
[ -n "$LOGDIR" ] && [ -f "$LOGDIR/debug.log" ] || fail "the bundle has no debug.log"
grep -q 'e2e: copying the source with rsync' "$LOGDIR/info.log" || fail "info.log misses the plugin's INFO line"
grep -q 'e2e: configuring the VDB' "$LOGDIR/debug.log" || fail "debug.log misses the plugin's DEBUG line"
grep -q 'e2e: the copy failed' "$LOGDIR/error.log" || fail "error.log misses the plugin's ERROR line"
grep -q 'e2e: the copy failed' "$LOGDIR/debug.log" || fail "debug.log is not hierarchical"
if grep -q 'e2e: configuring the VDB' "$LOGDIR/info.log"; then fail "a DEBUG line is in info.log"; fi
echo "the bundle holds the plugin's log lines:"
grep 'e2e:' "$LOGDIR/debug.log" | head -n 3

step "cleanup through the API"
"$DVP" vdb delete vdb1
[ ! -e "$WORK/mnt/vdb1" ] || fail "the VDB's mount is still there"
"$DVP" dsource delete ds1

step "the tutorial (docs/tutorial), with this sshd as its source host"
DVP=$DVP TUTORIAL=$WORK/tutorial SOURCE_HOST=127.0.0.1 SOURCE_PORT=$PORT SOURCE_USER=$ME \
	SOURCE_ADDRESS=$ALIAS SSH_KEY=$WORK/ssh/id_ed25519 KNOWN_HOSTS=$WORK/ssh/known_hosts \
	SOURCE_DATA=$SRC "$ROOT/scripts/tutorial.sh"

step "dvp test: the seed's dvptest.yml (the tutorial's scenario, this sshd as its source host)"
cp -r "$ROOT/testdata/plugins/seed-rsync" "$WORK/seedtest"
rm -rf "$WORK/seedtest/.dvp" "$WORK/seedtest/build" "$WORK/seedtest/artifact.json"
(cd "$WORK/seedtest" && SOURCE_HOST=127.0.0.1 SOURCE_PORT=$PORT SOURCE_USER=$ME SOURCE_ADDRESS=$ALIAS \
	SSH_KEY=$WORK/ssh/id_ed25519 KNOWN_HOSTS=$WORK/ssh/known_hosts "$DVP" test --junit "$WORK/seedtest.xml") ||
	fail "dvp test of the seed's dvptest.yml failed"
grep -q '<testsuite name="tutorial"' "$WORK/seedtest.xml" || fail "the JUnit report of dvp test has no tutorial suite"
grep -q 'failures="0"' "$WORK/seedtest.xml" || fail "the JUnit report of dvp test has failures"

echo
echo "e2e: PASS"
