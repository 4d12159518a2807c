//go:build !unix

package pluginhost

import "os"

// Without signal 0, probing uses Kill: on a process that still runs it ends
// it, and the test reports that as a failure anyway.
var nilSignal = os.Kill
