// Package dvp holds the files that the dvp binary carries with it: the
// templates of the files "dvp init" writes (templates/). The
// sources of the plugin SDK, which dvp materialises into every plugin project
// (see internal/sdkcopy and docs/plugin-project.md), are embedded by the SDK
// module itself (sdk.Source): embed cannot reach into another module.
//
// embed cannot reach outside the directory of the package that embeds, so
// this package lives at the module root.
package dvp

import "embed"

// Templates is the templates/ directory: the files dvp init writes.
//
//go:embed templates
var Templates embed.FS
