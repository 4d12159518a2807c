package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk"
)

func keep(_ context.Context, old json.RawMessage) (json.RawMessage, error) { return old, nil }

func TestSortedMigrationIDs(t *testing.T) {
	p := &Plugin{}
	for i, id := range []string{"2019.04.01", "4.10.04", "20190.10.006", "1.2.3.4", "5.4.3.2.1.0", "1", "10.01.10.00.1.0.0"} {
		p.Migrations = append(p.Migrations, Migration{Kind: []string{"repository", "snapshot"}[i%2], ID: id, Func: keep})
	}
	p.Migrations = append(p.Migrations, Migration{Kind: "repository", ID: "3.5", Type: sdk.LuaMigration, Func: keep})
	want := []string{"1", "1.2.3.4", "4.10.4", "5.4.3.2.1", "10.1.10.0.1", "2019.4.1", "20190.10.6"}
	if got := p.SortedMigrationIDs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func chainIDs(t *testing.T, p *Plugin, kind, lua string, ids []string) []string {
	t.Helper()
	chain, err := p.migrationChain(kind, lua, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, m := range chain {
		out = append(out, m.ID)
	}
	return out
}

func TestLuaMigrationSelection(t *testing.T) {
	p := &Plugin{}
	for _, id := range []string{"3.6", "1.02", "4.0", "2.01"} {
		p.Migrations = append(p.Migrations, Migration{Kind: "repository", ID: id, Type: sdk.LuaMigration, Func: keep})
	}
	p.Migrations = append(p.Migrations, Migration{Kind: "snapshot", ID: "1.0", Type: sdk.LuaMigration, Func: keep})
	// The reference platform's tested cases.
	for version, want := range map[string][]string{
		"2.1": {"2.01", "3.6", "4.0"},
		"5.1": {},
		"0.0": {"1.02", "2.01", "3.6", "4.0"},
		"2.9": {"3.6", "4.0"},
		"":    {},
	} {
		if got := chainIDs(t, p, "repository", version, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("version %q: got %v, want %v", version, got, want)
		}
	}
}

// The reference compares "major.minor" as floats, so 1.10 (1.1) sorts before
// 1.9; this runtime compares numerically.
func TestLuaMigrationNumericOrder(t *testing.T) {
	p := &Plugin{Migrations: []Migration{
		{Kind: "source_config", ID: "1.10", Type: sdk.LuaMigration, Func: keep},
		{Kind: "source_config", ID: "1.9", Type: sdk.LuaMigration, Func: keep},
		{Kind: "source_config", ID: "1.2", Type: sdk.LuaMigration, Func: keep},
	}}
	if got := chainIDs(t, p, "source_config", "1.9", nil); !reflect.DeepEqual(got, []string{"1.9", "1.10"}) {
		t.Errorf("from 1.9: %v (float order would give [1.9])", got)
	}
	if got := chainIDs(t, p, "source_config", "1.05", nil); !reflect.DeepEqual(got, []string{"1.9", "1.10"}) {
		t.Errorf("from 1.05: %v", got)
	}
	if got := chainIDs(t, p, "source_config", "0.0", nil); !reflect.DeepEqual(got, []string{"1.2", "1.9", "1.10"}) {
		t.Errorf("from 0.0: %v", got)
	}
}

func TestPlatformMigrationSelection(t *testing.T) {
	p := &Plugin{Migrations: []Migration{
		{Kind: "repository", ID: "2019.04.01", Func: keep},
		{Kind: "repository", ID: "2019.10.04", Func: keep},
		{Kind: "snapshot", ID: "2020.1", Func: keep},
		{Kind: "repository", ID: "1.5", Type: sdk.LuaMigration, Func: keep},
	}}
	// Request order wins; canonical matching; other kinds' ids skipped;
	// Lua migrations first.
	got := chainIDs(t, p, "repository", "1.0", []string{"2019.10.4", "2020.1", "2019.4.1.0"})
	if want := []string{"1.5", "2019.10.04", "2019.04.01"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := p.migrationChain("repository", "", []string{"x"}); err == nil {
		t.Fatal("invalid requested id accepted")
	}
	if _, err := p.migrationChain("repository", "1", nil); err == nil {
		t.Fatal("invalid Lua version accepted")
	}
}

func TestProblems(t *testing.T) {
	noop := func(context.Context, json.RawMessage) (any, error) { return nil, nil }
	p := &Plugin{
		Type: Direct,
		Operations: map[string]Handler{
			"discovery.repository": noop,
			"linked.start_staging": noop,
			"linked.nope":          noop,
			"virtual.configure":    nil,
			"upgrade":              noop,
		},
		Migrations: []Migration{
			{Kind: "repository", ID: "5.4.0.1", Name: "repo_upgrade", Func: keep},
			{Kind: "snapshot", ID: "5.04.000.01", Name: "snap_upgrade", Func: keep},
			{Kind: "repository", ID: "1234.0.0.", Name: "f1", Func: keep},
			{Kind: "repository", ID: "0.00.0", Name: "f2", Func: keep},
			{Kind: "repository", ID: "1.0.patchversion", Type: sdk.LuaMigration, Name: "f3", Func: keep},
			{Kind: "repository", ID: "1.04", Type: sdk.LuaMigration, Name: "f4", Func: keep},
			{Kind: "repository", ID: "1.4", Type: sdk.LuaMigration, Name: "f5", Func: keep},
			{Kind: "snapshot", ID: "1.4", Type: sdk.LuaMigration, Name: "f6", Func: keep}, // other kind: fine
			{Kind: "widget", ID: "1", Name: "f7", Func: keep},
			{Kind: "repository", ID: "7", Name: "f8"},
			{Kind: "repository", ID: "8", Type: sdk.MigrationType(5), Name: "f9", Func: keep},
		},
	}
	want := []string{
		"'linked.nope' is not a plugin operation.",
		"The operation linked.start_staging() is not supported for DIRECT plugins.",
		"'upgrade' is run by the runtime from the plugin's migrations: register migrations instead of an upgrade operation.",
		"The implementation of virtual.configure() is nil.",
		"The migration id '5.04.000.01' used in the function 'snap_upgrade' has the same canonical form '5.4.0.1' as another migration.",
		`The migration id '1234.0.0.' used in the function 'f1' does not follow the correct format '^\d+(\.\d+)*$'.`,
		"The migration id '0.00.0' used in the function 'f2' cannot be used because a 0 migration id is not allowed.",
		`The lua major minor version '1.0.patchversion' used in the function 'f3' decorated by 'upgrade.repository()' does not follow the correct format '^\d+\.\d+$'.`,
		"The lua major minor version '1.4' used in the function 'f5' decorated by 'upgrade.repository()' has already been used.",
		"The migration '1' used in the function 'f7' has the kind 'widget', which is not one of repository, source_config, linked_source, virtual_source, snapshot.",
		"The migration '7' registered for 'upgrade.repository()' has no function.",
		"The migration '8' used in the function 'f9' has the migration type 5, which is not supported.",
	}
	if got := p.Problems(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if got := (&Plugin{Type: "HYBRID"}).Problems(); len(got) != 1 || got[0] != "The plugin type 'HYBRID' is not valid: it must be DIRECT or STAGED." {
		t.Fatal(got)
	}
	m := p.Manifest()
	if !reflect.DeepEqual(m.Operations, []string{"discovery.repository"}) || len(m.Errors) != len(want) || m.Migrations[1].CanonicalID != "5.4.0.1" {
		t.Fatalf("%+v", m)
	}
	// The Go function name is used when Name is empty.
	if n := (Migration{Func: keep}).functionName(0); !strings.HasSuffix(n, "runtime.keep") {
		t.Fatal(n)
	}
}

// A typed migration over a struct of the plugin's own decodes the stored
// object with types.Unmarshal: a property the struct does not declare fails
// the migration instead of vanishing from the upgraded object.
func TestMigrationFuncDecodesStrictly(t *testing.T) {
	type oldRepo struct {
		Name string `json:"name"`
		Port int    `json:"port,omitempty"`
	}
	type newRepo struct {
		Name string `json:"name"`
		Port int    `json:"port"`
	}
	f := MigrationFunc(func(_ context.Context, o oldRepo) (newRepo, error) {
		if o.Port == 0 {
			o.Port = 5432
		}
		return newRepo(o), nil
	})
	out, err := f(context.Background(), json.RawMessage(`{"name":"pg"}`))
	if err != nil || string(out) != `{"name":"pg","port":5432}` {
		t.Fatalf("%s %v", out, err)
	}
	_, err = f(context.Background(), json.RawMessage(`{"name":"pg","installPath":"/opt/pg","Port":1}`))
	var ie *InputError
	want := "the object to migrate cannot be decoded: " +
		"/installPath: property is not allowed: runtime.oldRepo has no field for it (give a field the json tag \"installPath\" to take it)\n" +
		"/Port: property is not allowed: did you mean \"port\"? (runtime.oldRepo has the field Port for \"port\": names match exactly, case included)"
	if !errors.As(err, &ie) || ie.Message != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
