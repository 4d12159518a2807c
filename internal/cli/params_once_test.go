package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestParamsReadOnce: --params @FILE, --snapshot-params @FILE and --hook
// NAME=@FILE are read once, when the flags are checked, and what is sent
// is what was checked: the engine here rewrites the files while dvp logs
// in (after the checks, before the request), and the request still holds
// the first content. (They were read a second time for the request, and a
// failure of that read was dropped.)
func TestParamsReadOnce(t *testing.T) {
	for _, c := range []struct {
		name, path string
		args       []string
	}{
		{"link", engineapi.PathLink, []string{"dsource", "link", "ds1", "--source-config", "sc", "--params", "@params.json", "--snapshot-params", "@snap.json", "--hook", "pre-sync=@hook.sh"}},
		{"provision", engineapi.PathProvision, []string{"vdb", "provision", "vdb1", "--snapshot", "S-1", "--environment", "e", "--params", "@params.json", "--hook", "configure-clone=@hook.sh"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			args := make([]string, len(c.args))
			for i, a := range c.args {
				if i > 0 && c.args[i-1] == "--hook" {
					name, file, _ := strings.Cut(a, "=@")
					a = name + "=@" + filepath.Join(home, file)
				} else if strings.HasPrefix(a, "@") {
					a = "@" + filepath.Join(home, a[1:])
				}
				args[i] = a
			}
			os.WriteFile(filepath.Join(home, "params.json"), []byte(`{"mountLocation": "/mnt/first"}`), 0o644)
			os.WriteFile(filepath.Join(home, "snap.json"), []byte(`{"resync": true}`), 0o644)
			os.WriteFile(filepath.Join(home, "hook.sh"), []byte("echo first-hook"), 0o644)
			srv, sentBody := rewritingEngine(t, home, c.path)
			code, _, errOut := runWithEngine(t, srv, args...)
			sent := sentBody()
			if code != 1 || sent == "" {
				t.Fatalf("exit %d, sent %q, stderr:\n%s", code, sent, errOut)
			}
			want := []string{"/mnt/first", "first-hook"}
			if c.name == "link" {
				want = append(want, `"resync":true`)
			}
			for _, w := range want {
				if !strings.Contains(strings.ReplaceAll(sent, " ", ""), strings.ReplaceAll(w, " ", "")) {
					t.Errorf("the request lacks %s: %s", w, sent)
				}
			}
			if strings.Contains(sent, "changed") {
				t.Errorf("the request holds what the files were changed to after the checks: %s", sent)
			}
		})
	}
}

// rewritingEngine is an engine that rewrites the files of dir while dvp
// logs in, and refuses the request to path; sent returns that request's
// body.
func rewritingEngine(t *testing.T, dir, path string) (srv *httptest.Server, sent func() string) {
	var mu sync.Mutex
	var body string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/session":
			io.WriteString(w, fakeSession)
		case "delphix/login":
			for _, f := range []string{"params.json", "snap.json", "hook.sh"} {
				os.WriteFile(filepath.Join(dir, f), []byte(`{"changed": true}`), 0o644)
			}
			io.WriteString(w, fakeLogin)
		case strings.TrimPrefix(path, engineapi.APIPrefix):
			body = string(b)
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Refused.", "action": "None.", "id": "x"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Not here.", "action": "Look elsewhere.", "id": "x"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() string {
		mu.Lock()
		defer mu.Unlock()
		return body
	}
}
