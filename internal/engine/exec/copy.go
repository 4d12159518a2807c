package exec

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"strings"
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
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("copying %s to %s: %v: %s", src, dst, err, strings.TrimSpace(string(out)))
	}
	return nil
}
