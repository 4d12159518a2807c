// Command dvp is the Delphix virtualization plugin toolchain for Go plugins.
package main

import (
	"os"
	"runtime/debug"

	"github.com/dvpkit/dvp/internal/cli"
)

// version is set with -ldflags "-X main.version=..." by release builds.
var version = ""

func main() {
	os.Exit(cli.Main(os.Args[1:], resolveVersion()))
}

func resolveVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}
