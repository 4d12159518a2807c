package sdk

import "embed"

// Source holds the files of this module: its go.mod and the Go files of
// every package (tests included). The dvp tool embeds it to write this exact
// SDK into each plugin project (leaving the tests out), so that a plugin
// builds offline. Plugins have no use for it; a plugin binary that does not
// refer to it does not contain it.
//
// Every directory of the module must be listed here; a test checks it.
//
//go:embed go.mod *.go internal libs plugintest protocol runtime types
var Source embed.FS
