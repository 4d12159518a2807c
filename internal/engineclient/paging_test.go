package engineclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pagingEngine serves n environments a page at a time as the engine does
// (docs/engine.md, "Paging"), or the whole list when ignore is set (an
// engine that does not page), and records the queries it got.
type pagingEngine struct {
	n      int
	ignore bool
	mu     sync.Mutex
	got    []string
}

func (p *pagingEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.got = append(p.got, r.URL.RawQuery)
	p.mu.Unlock()
	from, to := 0, p.n
	if size, _ := strconv.Atoi(r.URL.Query().Get("pageSize")); size > 0 && !p.ignore {
		page, _ := strconv.Atoi(r.URL.Query().Get("pageOffset"))
		from, to = min(page*size, p.n), min(page*size+size, p.n)
	}
	var items []string
	for i := from; i < to; i++ {
		items = append(items, fmt.Sprintf(`{"type": "UnixHostEnvironment", "reference": "UNIX_HOST_ENVIRONMENT-%d", "name": "env %d"}`, i+1, i))
	}
	fmt.Fprintf(w, `{"type": "ListResult", "status": "OK", "result": [%s], "job": null, "action": null, "total": %d, "overflow": %v}`,
		strings.Join(items, ","), p.n, to < p.n)
}

// TestListsArePaged reads lists of several pages, of exactly one page, of
// none, and from an engine that ignores the paging parameters: every item
// once, in order, with one request per page.
func TestListsArePaged(t *testing.T) {
	for _, tc := range []struct {
		n      int
		ignore bool
		want   []string
	}{
		{250, false, []string{"pageSize=100&pageOffset=0", "pageSize=100&pageOffset=1", "pageSize=100&pageOffset=2"}},
		{200, false, []string{"pageSize=100&pageOffset=0", "pageSize=100&pageOffset=1"}},
		{0, false, []string{"pageSize=100&pageOffset=0"}},
		{250, true, []string{"pageSize=100&pageOffset=0"}},
	} {
		p := &pagingEngine{n: tc.n, ignore: tc.ignore}
		srv := httptest.NewServer(p)
		c, _ := newTestClient(t, srv.URL)
		envs, err := c.ListEnvironments(context.Background())
		srv.Close()
		if err != nil || envs == nil || len(envs) != tc.n {
			t.Errorf("%d environments (ignore %v): got %d, %v", tc.n, tc.ignore, len(envs), err)
			continue
		}
		for i, e := range envs {
			if e.Name != fmt.Sprintf("env %d", i) {
				t.Errorf("%d environments: item %d is %q", tc.n, i, e.Name)
				break
			}
		}
		if strings.Join(p.got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%d environments (ignore %v): queries %v, want %v", tc.n, tc.ignore, p.got, tc.want)
		}
	}
}
