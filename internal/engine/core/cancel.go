package core

import (
	"context"
	"fmt"

	"github.com/dvpkit/dvp/internal/engine/jobs"
)

// A canceled job (dvp job cancel) stops where it is: its context ends,
// so the plugin operation is cancelled (and its process killed if it does
// not stop), the commands it runs end with their process groups, and each
// step cleans up what it had begun with a context of its own: an
// unfinished snapshot is deleted with its directory, a storage copy is
// swapped in only once complete. rollBack then puts the object in the
// state docs/workflows.md ("Canceling a job") describes, and says which in
// the job's CANCELED event.

// rollBack runs after the workflow of a canceled job of actionType on the
// object ref (named name) has returned.
func (e *Engine) rollBack(j *jobs.Job, actionType, ref, name string) {
	ctx := context.Background()
	switch actionType {
	case "DB_LINK":
		e.removeContainer(ctx, j, ref)
		j.RolledBack(fmt.Sprintf("The dSource %s was removed, as its link had not finished: link it again.", name))
	case "DB_PROVISION":
		e.removeContainer(ctx, j, ref) // done already when the job failed; harmless again
		j.RolledBack(fmt.Sprintf("The VDB %s was removed, as its provision had not finished: provision it again.", name))
	case "DB_SYNC":
		j.RolledBack(fmt.Sprintf("No snapshot was taken: %s keeps the snapshots it had. Its staging data may be partly updated; its next sync brings it up to date.", name))
	case "DB_SNAPSHOT":
		j.RolledBack(fmt.Sprintf("No snapshot was taken: %s keeps the snapshots it had.", name))
	case "DB_REFRESH", "DB_ROLLBACK":
		j.RolledBack(fmt.Sprintf("The data of %s is either as it was or, if the copy had finished, the snapshot's (a copy replaces it only once complete); the plugin may have unconfigured it: run the refresh or rollback again to bring it to a known state.", name))
	case "DB_DELETE":
		j.RolledBack(fmt.Sprintf("%s was not deleted.", name))
	case "ENVIRONMENT_CREATE", "ENVIRONMENT_REFRESH":
		j.RolledBack(fmt.Sprintf("Discovery on %s stopped: it keeps the repositories and source configs found so far; dvp environment refresh %s runs it again.", name, name))
	default: // start, stop, enable, disable, status
		j.RolledBack(fmt.Sprintf("The recorded state of %s is unchanged, but the plugin's operation was interrupted: dvp dsource status or dvp vdb status %s asks the plugin where it stands.", name, name))
	}
}
