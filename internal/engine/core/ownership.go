// OwnershipSpecification (docs/workflows.md, "Mounts and snapshots"): the
// owner the plugin's mount specification asks for the mounted files.

package core

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/sdk"
)

// engineIsRoot says whether the engine may change the owner of files.
func engineIsRoot() bool { return os.Geteuid() == 0 }

// applyOwnership gives the storage behind each local (symlink) mount to
// the uid and gid of the mount specification's OwnershipSpecification,
// when the engine runs as root; otherwise, and on SSH environments (whose
// copy belongs to the environment's user), it says on the job why the
// files keep their owner. Links in the storage are changed, not followed.
func (w *wf) applyOwnership(o *sdk.OwnershipSpecification, mounts []engineapi.Mount) error {
	if o == nil {
		return nil
	}
	owner := fmt.Sprintf("%d:%d", o.UID, o.GID)
	for i, m := range mounts {
		if m.Method != "symlink" {
			w.j.Event("event.storage.owner.skipped", fmt.Sprintf("The ownership %s the plugin asks for is not applied at %s: on an SSH environment the copy belongs to the environment's user.", owner, m.MountPath), nil, "WARNING", "RUNNING")
			continue
		}
		if !engineIsRoot() {
			w.j.Event("event.storage.owner.skipped", fmt.Sprintf("The ownership %s the plugin asks for is not applied at %s: the engine does not run as root, so the files stay its user's.", owner, m.MountPath), nil, "WARNING", "RUNNING")
			continue
		}
		if err := chownTree(w.storageOf(m), o.UID, o.GID); err != nil {
			return failf("Check the engine's data directory, then run the command again.", "Cannot give the storage of %s to %s: %v", w.c.Name, owner, err)
		}
		mounts[i].Owner = owner
		w.j.Info("event.storage.owner", fmt.Sprintf("The storage mounted at %s belongs to %s (the plugin's OwnershipSpecification).", m.MountPath, owner))
	}
	return nil
}

// chownTree changes the owner of root and everything under it, links
// themselves (lchown), never what they point to.
func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
