package engine

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
)

// warnSecretFileLinks warns about each of the engine's secret files (the
// admin password file, the TLS key) that other users can read (its group
// or other read bit), and each that has more than one hard link: the
// sandbox hides such a file from the commands plugins run on local
// environments by its path (those commands see the rest of the host), so
// another link to it stays readable there (docs/engine.md, "Sandbox").
// Plugin processes see none of the host's other files either way.
func warnSecretFileLinks(log *slog.Logger, files []string) {
	for _, f := range files {
		if f == "" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if perm := st.Mode().Perm(); perm&0o044 != 0 && runtime.GOOS != "windows" {
			log.Warn(fmt.Sprintf("The secret file %s can be read by other users of this machine (mode %04o): they can read the admin password or the TLS key in it. Run chmod 600 %s.", f, perm, f))
		}
		if n := hardLinks(st); n > 1 {
			log.Warn(fmt.Sprintf("The secret file %s has %d hard links: the sandbox hides it by its path, so the commands plugins run on local environments can read it through the other links. Remove them (find / -samefile %s) or give the engine a copy.", f, n, f))
		}
	}
}
