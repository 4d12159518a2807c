package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/sdk/protocol"
)

const maxManifestOutput = 16 << 20

// ReadManifest runs the plugin binary in manifest mode and returns what it
// registered (protocol.Manifest); ctx bounds the run (the process group is
// killed when it ends). When the plugin reports problems with its
// registrations, the manifest is returned together with a *ManifestError
// listing them.
func ReadManifest(ctx context.Context, binary string) (*protocol.Manifest, error) {
	cmd := exec.CommandContext(ctx, binary, protocol.ManifestFlag)
	// One P: the plugin only prints what it registered, and dvp build
	// runs it while it hashes and writes the artifact on both cores; with
	// one per core its runtime's threads cost a third more CPU time
	// (10.5 vs 7.8 ms, 84 vs 18 context switches, for the scaffold).
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	sandbox.ProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	stdout := &OutputBuffer{Max: maxManifestOutput}
	stderr := &tailWriter{max: stderrTailSize}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("running %s %s: %w", binary, protocol.ManifestFlag, ctx.Err())
	}
	var m protocol.Manifest
	line := lastLine(stdout.Bytes())
	if stdout.Overflow() || len(line) == 0 || json.Unmarshal(line, &m) != nil || m.Protocol != protocol.Name {
		status := "exit status 0"
		if runErr != nil {
			status = runErr.Error()
		}
		return nil, fmt.Errorf("%s did not print a plugin manifest (%s); is it a plugin built with the dvp Go SDK?\n%s",
			binary, status, stderr.String())
	}
	if len(m.Errors) > 0 {
		return &m, &ManifestError{Problems: m.Errors}
	}
	if runErr != nil {
		return &m, fmt.Errorf("%s printed its manifest but failed (%v):\n%s", binary, runErr, stderr.String())
	}
	if !slices.Contains(m.ProtocolVersions, protocol.Version) {
		return &m, fmt.Errorf("the plugin speaks protocol versions %v; this engine speaks version %d", m.ProtocolVersions, protocol.Version)
	}
	return &m, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\r\n\t ")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return bytes.TrimSpace(b)
}
