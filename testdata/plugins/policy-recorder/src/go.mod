module policy-recorder

go 1.25

// The plugin SDK of the dvp that made this project: dvp keeps a copy of it in
// ../.dvp/sdk (dvp build refreshes it), so the plugin builds offline.
require github.com/dvpkit/dvp/sdk v0.0.0-dvp

replace github.com/dvpkit/dvp/sdk => ../.dvp/sdk
