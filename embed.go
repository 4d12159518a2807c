// Package dvp holds the files that the dvp binary carries with it: the
// sources of the plugin SDK (sdk/), which dvp materialises into every plugin
// project so that it builds offline against the SDK of the dvp that made it
// (see internal/sdkcopy and docs/plugin-project.md), the templates of the
// files "dvp init" writes (templates/), and go.mod, for the Go version the
// SDK is written for.
//
// embed cannot reach outside the directory of the package that embeds, so
// this package lives at the module root. The SDK tree embedded here also
// holds its tests and test data; internal/sdkcopy leaves them out.
package dvp

import "embed"

// SDK is the sdk/ directory of this repository.
//
//go:embed sdk
var SDK embed.FS

// Templates is the templates/ directory: the files dvp init writes.
//
//go:embed templates
var Templates embed.FS

// GoMod is this module's go.mod (its go directive is the Go version the
// SDK copy declares).
//
//go:embed go.mod
var GoMod []byte
