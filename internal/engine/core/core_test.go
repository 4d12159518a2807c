package core

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/logging"
)

// newTestEngine is the domain over a store in a temporary directory, with
// no HTTP in front of it.
func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	r := logging.NewRedactor()
	keeper, err := secrets.OpenKeeper(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, keeper)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{DataDir: dir, Clock: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Redactor: r},
		st, keeper, &exec.Runner{DataDir: dir, Redactor: r, Secret: keeper.Register})
	t.Cleanup(func() { e.Stop(); e.Wait(); st.Close() })
	return e
}

// A refusal is a *Error of a kind, with the id, details and action the
// API shows.
func wantRefusal(t *testing.T, what string, err error, kind Kind, id string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != kind || ce.ID != id || ce.Details == "" || ce.Action == "" {
		t.Errorf("%s: %#v, want a refusal of kind %d with id %s, details and action", what, err, kind, id)
	}
}

func TestRefusalsAreDomainErrors(t *testing.T) {
	e := newTestEngine(t)
	ctx := t.Context()
	c := Caller{User: "admin", UserRef: "USER-1"}

	_, err := e.Link(ctx, c, engineapi.LinkParameters{Name: " "})
	wantRefusal(t, "link without a name", err, Invalid, "exception.webservices.json.invalid")
	_, err = e.Link(ctx, c, engineapi.LinkParameters{Name: "ds", SourceConfig: "APPDATA_SOURCE_CONFIG-9"})
	wantRefusal(t, "link of a missing source config", err, NotFound, "exception.webservices.object.notfound")
	_, err = e.ContainerOp(ctx, c, "nothing", "sync", engineapi.ContainerOpParameters{})
	wantRefusal(t, "sync of a missing dSource", err, NotFound, "exception.webservices.object.notfound")
	_, err = e.ContainerOp(ctx, c, "nothing", "explode", engineapi.ContainerOpParameters{})
	wantRefusal(t, "an operation that does not exist", err, Invalid, "exception.webservices.json.invalid")
	wantRefusal(t, "delete of a missing environment", e.DeleteEnvironment(ctx, "UNIX_HOST_ENVIRONMENT-1"), NotFound, "exception.webservices.object.notfound")
	_, err = e.Toolkit(ctx, "APPDATA_TOOLKIT-1")
	wantRefusal(t, "a missing plugin", err, NotFound, "exception.webservices.object.notfound")
	_, err = e.Bundle(ctx, "CORE_LOG", "APPDATA_TOOLKIT-1")
	wantRefusal(t, "a bundle of another type", err, Invalid, "exception.support.bundle.type")
	_, err = e.CreateEnvironment(ctx, c, engineapi.EnvironmentCreateParameters{Name: "h", HostType: "telnet"})
	wantRefusal(t, "an environment of an unknown host type", err, Invalid, "exception.validation.parameters")
}

func TestLoginAndEnsureAdmin(t *testing.T) {
	e := newTestEngine(t)
	ctx := t.Context()
	e.cfg.BcryptCost = 4
	generated, err := e.EnsureAdmin(ctx, "")
	if err != nil || len(generated) != 20 {
		t.Fatalf("first start: %q %v", generated, err)
	}
	if again, err := e.EnsureAdmin(ctx, ""); err != nil || again != "" {
		t.Errorf("a second start generated %q (%v)", again, err)
	}
	if ref, ok := e.Login(ctx, AdminUser, generated); !ok || ref != "USER-1" {
		t.Errorf("login with the generated password: %q %v", ref, ok)
	}
	if _, ok := e.Login(ctx, AdminUser, "wrong"); ok {
		t.Error("a wrong password logged in")
	}
	if _, ok := e.Login(ctx, "nobody", generated); ok {
		t.Error("an unknown user logged in")
	}
}

// A shared path is made inside the storage without following a link out
// of it (the environment's commands write the storage).
func TestSharedStorageFollowsNoLinkOut(t *testing.T) {
	storage, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(storage, "sub")); err != nil {
		t.Fatal(err)
	}
	if _, err := sharedStorage(storage, "/sub/x"); err == nil {
		t.Error("a shared path through a link out of the storage was made")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("made outside the storage: %v", entries)
	}
	dir, err := sharedStorage(storage, "/a/../b/c")
	if err != nil || dir != filepath.Join(storage, "b", "c") {
		t.Fatalf("%s %v", dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("not made: %v", err)
	}
}
