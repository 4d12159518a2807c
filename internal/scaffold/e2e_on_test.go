//go:build e2e

package scaffold

// e2eTests: the test binary was built with the e2e tag (make e2e), which
// adds the cases whose fast equivalents run in make test.
const e2eTests = true
