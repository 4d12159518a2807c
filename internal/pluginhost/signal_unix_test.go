//go:build unix

package pluginhost

import "syscall"

var nilSignal = syscall.Signal(0)
