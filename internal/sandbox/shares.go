package sandbox

// ProcessShares splits the process limit n (Limits.Processes) between a
// plugin process and the commands it runs on local environments, at most
// calls of them at once, for an engine without cgroups (one that is not
// root): there the kernel counts RLIMIT_NPROC per sandbox (per user
// namespace), so that a plugin process and its commands, each with n of
// its own, held calls+1 times n. With these shares they hold at most n
// together: the plugin process a quarter of it, each command an equal part
// of the rest (at least 1 each, so that a limit under 22 may be passed by
// a few). 0 (no limit) stays 0.
func ProcessShares(n, calls int) (plugin, command int) {
	if n <= 0 {
		return 0, 0
	}
	plugin = max(n/4, 1)
	command = max((n-plugin)/max(calls, 1), 1)
	return plugin, command
}
