// Package libs holds the platform libraries a plugin operation calls to act
// on remote environments: RunBash, RunPowershell, RunExpect, RunSync,
// RetrieveCredentials, UpgradePassword, and logging through log/slog.
//
// Every call is a request to the engine, which executes it and answers: the
// plugin never runs a command itself. The request travels on the channel the
// runtime put in the operation's context, so always pass the ctx your
// operation received:
//
//	res, err := libs.RunBash(ctx, src.StagedConnection, "rsync -r "+from+" "+to,
//		libs.Variables(map[string]string{"PGPASSWORD": pw}), libs.Check())
//
// Calling a library outside an operation (with a context the runtime did not
// give) returns ErrNoEngine.
package libs
