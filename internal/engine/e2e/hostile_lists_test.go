//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHostileEngineEndlessList: dvp reads a list a page at a time while
// the engine says more follow (overflow), and an engine that always said
// so, with a total as large as it pleased, was read without end, every
// page kept: dvp environment list grew by each page until the machine ran
// out of memory. A list now holds at most 1,000,000 items and 256 MiB of
// answers; beyond, dvp stops reading it, saying why. The test engine ends
// its list after 600 pages of 1 MiB, so that a dvp without the bound ends.
func TestHostileEngineEndlessList(t *testing.T) {
	var pages atomic.Int32
	name := strings.Repeat("n", 10<<10)
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/resources/json/delphix/environment" {
			http.NotFound(w, r)
			return
		}
		n := pages.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("pageOffset"))
		size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		var b strings.Builder
		b.WriteString(`{"type": "ListResult", "status": "OK", "result": [`)
		for i := range max(size, 100) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"type": "UnixHostEnvironment", "reference": "UNIX_HOST_ENVIRONMENT-%d", "name": "%s%d-%d"}`, i, name, page, i)
		}
		fmt.Fprintf(&b, `], "total": 1099511627776, "overflow": %v}`, n < 600)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b.String()))
	})
	res := dvp(t, nil, "environment", "list", "-e", srv.URL, "-u", "admin")
	const says = "dvp stopped reading it"
	if res.code != 1 || !strings.Contains(res.stderr, says) || !strings.Contains(res.stderr, "/resources/json/delphix/environment") {
		t.Errorf("exit %d, want 1 and a refusal saying %q\n%.2000s", res.code, says, res.stderr)
	}
	if n := pages.Load(); n > 300 {
		t.Errorf("dvp read %d pages of 1 MiB of one list (256 MiB is its bound)", n)
	}
	assertNoControlBytes(t, "stderr", res.stderr)
}
