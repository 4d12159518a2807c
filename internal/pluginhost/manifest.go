package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	sandbox.ProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	stdout := &limitedBuffer{max: maxManifestOutput}
	stderr := &tailWriter{max: stderrTailSize}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("running %s %s: %w", binary, protocol.ManifestFlag, ctx.Err())
	}
	var m protocol.Manifest
	line := lastLine(stdout.Bytes())
	if stdout.overflow || len(line) == 0 || json.Unmarshal(line, &m) != nil || m.Protocol != protocol.Name {
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

// limitedBuffer keeps up to max bytes and notes an overflow; writes never
// fail, so the child is not disturbed.
type limitedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

// ReadFrom reads r to its end through Write: the ReadFrom promoted from
// bytes.Buffer (which io.Copy and os/exec use) would not stop at max.
func (l *limitedBuffer) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		m, err := r.Read(buf)
		if m > 0 {
			l.Write(buf[:m])
			n += int64(m)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (l *limitedBuffer) Write(b []byte) (int, error) {
	if room := l.max - l.Len(); room < len(b) {
		l.overflow = true
		if room > 0 {
			l.Buffer.Write(b[:room])
		}
		return len(b), nil
	}
	return l.Buffer.Write(b)
}
