//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestLongObjectNameAnswered: dvp naming a VDB by a 100 KB name — a URL
// over --max-header-size — gets the engine's 414 ErrorResult saying why,
// not "connection reset by peer"; a new environment named with 300
// characters is refused saying names have at most 256.
func TestLongObjectNameAnswered(t *testing.T) {
	e := startEngine(t, t.TempDir())
	defer e.stop()
	r := dvp(t, nil, "vdb", "delete", "-e", e.url, "-u", "admin", strings.Repeat("v", 100_000))
	if r.code != 1 || !strings.Contains(r.stderr, "API request failed with HTTP Status 414\nDetails: The request's URL is ") ||
		!strings.Contains(r.stderr, "(--max-header-size)") || strings.Contains(r.stderr, "reset") {
		t.Errorf("a VDB named by 100 KB: %+v", r)
	}
	r = dvp(t, nil, "environment", "add", "-e", e.url, "-u", "admin", strings.Repeat("e", 300), "--local")
	if r.code != 1 || !strings.Contains(r.stderr, "/name: the name is 300 characters long; a name has at most 256") {
		t.Errorf("an environment named with 300 characters: %+v", r)
	}
}
