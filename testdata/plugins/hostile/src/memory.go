package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

// The attacks on the engine's memory (internal/engine/e2e
// hostile_memory_test.go), chosen by the environment's name:
//
//   - "memory": 16 run_bash calls at once, each printing 8 MiB, all
//     holding their output until every one has printed (the engine held
//     each several times over, 16 at once);
//   - "bigmessage": a library request of 9 MB written straight to the
//     protocol's descriptor, past the SDK's own check (the engine read
//     and held requests of up to 192 MiB, 16 at once).
//   - "processes": 16 run_bash calls at once, each forking until the
//     kernel refuses and holding its processes until all have forked
//     (each local command had --max-processes of its own).
func memoryAttack(ctx context.Context, conn sdk.RemoteConnection) (report, bool) {
	var r report
	switch conn.Environment.Name {
	case "memory":
		r.add("bash-memory", parallelOutput(ctx, conn))
	case "bigmessage":
		r.add("bigmessage", bigMessage())
	case "processes":
		r.add("bash-processes", parallelForks(ctx, conn))
	default:
		return nil, false
	}
	return r, true
}

// parallelOutput makes 16 run_bash calls at once that each print 8 MiB and
// wait, for at most a minute, until all 16 have printed.
func parallelOutput(ctx context.Context, conn sdk.RemoteConnection) string {
	res, err := libs.RunBash(ctx, conn, "mktemp -d")
	if err != nil {
		return "mktemp: " + err.Error()
	}
	dir := strings.TrimSpace(res.Stdout)
	defer libs.RunBash(ctx, conn, `rm -rf "$D"`, libs.Variables(map[string]string{"D": dir}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused, why := 0, 0, ""
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := libs.RunBash(ctx, conn, `head -c 8388608 /dev/zero | tr '\0' x; touch "$D/$I"; n=0; while [ "$(ls "$D" | wc -l)" -lt 16 ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done`,
				libs.Variables(map[string]string{"D": dir, "I": strconv.Itoa(i)}))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				refused++
				why = err.Error()
			case len(res.Stdout) == 8<<20:
				ok++
			default:
				why = fmt.Sprintf("a call returned %d bytes", len(res.Stdout))
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d ok, %d refused: %s", ok, refused, why)
}

// bigMessage writes a run_expect request of 9 MB on the protocol's own
// descriptor (the write-only pipe the SDK keeps); the engine ends the
// process (within a minute: else it says so).
func bigMessage() string {
	fd := protocolFd()
	if fd < 0 {
		return "no protocol descriptor found"
	}
	line := `{"type":"request","id":"r999999","call":"c1","method":"run_expect","params":{"remote_connection":{"environment":{"reference":"E"},"user":{"reference":"U"}},"command":"` +
		strings.Repeat("x", 9_000_000) + "\"}}\n"
	if _, err := syscall.Write(fd, []byte(line)); err != nil {
		return "write: " + err.Error()
	}
	time.Sleep(time.Minute)
	return "not stopped by the engine"
}

// protocolFd finds the duplicate of stdout the SDK writes the protocol to:
// the first write-only pipe after stderr, other than stderr's.
func protocolFd() int {
	stderr, _ := os.Readlink("/proc/self/fd/2")
	for fd := 3; fd < 64; fd++ {
		link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			continue
		}
		if !strings.HasPrefix(link, "pipe:") || link == stderr {
			continue
		}
		if fl, err := fcntlGetfl(fd); err == nil && fl&syscall.O_ACCMODE == syscall.O_WRONLY {
			return fd
		}
	}
	return -1
}

func fcntlGetfl(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// parallelForks makes 16 run_bash calls at once that each fork sleeping
// children until one is refused (perl's fork does not retry, as bash's
// does), then wait, for at most 10 seconds, until all 16 have forked (the
// waiting forks nothing), and says how many children they held in all.
func parallelForks(ctx context.Context, conn sdk.RemoteConnection) string {
	res, err := libs.RunBash(ctx, conn, "mktemp -d")
	if err != nil {
		return "mktemp: " + err.Error()
	}
	dir := strings.TrimSpace(res.Stdout)
	defer libs.RunBash(ctx, conn, `rm -rf "$D"`, libs.Variables(map[string]string{"D": dir}))
	const script = `exec perl -e '
for ($n = 0; $n < 3000; $n++) { my $p = fork(); last unless defined $p; if (!$p) { sleep 600; exit 0 } }
open(my $f, ">", "$ENV{D}/$ENV{I}"); print $f "$n"; close($f);
for ($i = 0; $i < 200; $i++) { my @done = glob("$ENV{D}/*"); last if @done >= 16; select(undef, undef, undef, 0.05) }
print "forked $n\n"'`
	var wg sync.WaitGroup
	var mu sync.Mutex
	total, failed, why := 0, 0, ""
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := libs.RunBash(ctx, conn, script, libs.Variables(map[string]string{"D": dir, "I": strconv.Itoa(i)}))
			mu.Lock()
			defer mu.Unlock()
			var n int
			if err == nil {
				_, err = fmt.Sscanf(res.Stdout, "forked %d", &n)
			}
			if err != nil {
				failed++
				why = err.Error()
				return
			}
			total += n
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d forked, %d calls failed: %s", total, failed, why)
}
