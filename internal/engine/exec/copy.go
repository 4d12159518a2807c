package exec

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"strings"

	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
)

// CopyTree makes dst an independent copy of src, both in the engine's data
// directory (a snapshot of a container's storage, a VDB's storage from a
// snapshot): cp -a --reflink=auto, a cheap clone where the file system can,
// a full copy elsewhere. What dst held before is removed first.
func CopyTree(ctx context.Context, src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	cmd := osexec.CommandContext(ctx, "cp", "-a", "--reflink=auto", src+"/.", dst+"/")
	cmd.Env = toolEnv()
	// What a plugin's commands left in the storage decides what cp says:
	// a million unreadable files would be a million lines, kept whole and
	// quoted in the job's failure.
	out := &pluginhost.OutputBuffer{Max: maxToolOutput}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if out.Overflow() {
			msg += fmt.Sprintf(" ... (cp said more than %d KiB: the rest is left out)", maxToolOutput>>10)
		}
		return fmt.Errorf("copying %s to %s: %v: %s", src, dst, err, msg)
	}
	return nil
}

// maxToolOutput bounds what the engine keeps of the output of the tools
// it runs itself (cp, rsync).
const maxToolOutput = 64 << 10

// toolEnv is the environment of the tools the engine runs itself (cp,
// rsync and the ssh it starts): the sandbox's allow-list of the engine's
// own (sandbox.Env), never a DVP_* variable such as
// DVP_ENGINE_ADMIN_PASSWORD, which an ssh configured to send the
// environment (SendEnv) would pass to the remote host.
func toolEnv() []string { return sandbox.Env(nil, "") }
