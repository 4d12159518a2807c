package exec

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/dvpkit/dvp/internal/sandbox"
)

// OSUserNeedsSandbox is why an engine without a sandbox refuses a local
// environment's --os-user: the commands would start directly as that user,
// and the storage their mounts link to is in the data directory, which
// only the engine's user may enter (in the sandbox, the storage is bound
// into their view).
func OSUserNeedsSandbox(name string) error {
	return fmt.Errorf("the engine runs without a sandbox (--insecure-no-sandbox): commands started as the OS user %q could not reach the storage their mounts link to, which is in the data directory only the engine's user may enter; start the engine with the sandbox, or leave --os-user out (commands then run as the engine's user)", name)
}

// LookupOSUser finds the OS user a local environment's commands run as
// (dvp environment add --local --os-user USER) in the user database: nil
// for "" and for the engine's own user. Another user needs a root engine:
// only root can start commands as another user.
func LookupOSUser(name string) (*sandbox.User, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("there is no OS user %q on this host (%v)", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the OS user %q has no numeric user and group ID", name)
	}
	if uid == os.Geteuid() {
		return nil, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the engine runs as the user with ID %d, which cannot start commands as the OS user %q: run the engine as root to use another OS user, or leave --os-user out (commands then run as the engine's user)", os.Geteuid(), name)
	}
	o := &sandbox.User{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir, Groups: []int{gid}}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid && g != 0 {
				o.Groups = append(o.Groups, g)
			}
		}
	}
	return o, nil
}
