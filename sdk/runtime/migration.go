package runtime

import (
	"fmt"
	"slices"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// SortedMigrationIDs returns the canonical ids of the platform migrations,
// sorted as integer arrays: the artifact's migrationIdList. Invalid ids are
// left out (Problems reports them).
func (p *Plugin) SortedMigrationIDs() []string {
	var ids []string
	for _, m := range p.Migrations {
		if m.Type != sdk.PlatformMigration {
			continue
		}
		if c, err := protocol.CanonicalMigrationID(m.ID); err == nil {
			ids = append(ids, c)
		}
	}
	slices.SortFunc(ids, protocol.CompareMigrationIDs)
	return slices.Compact(ids)
}

// migrationChain returns the migrations to run, in order, for objects of kind
// coming from the given Lua version and for the requested platform ids:
// first the Lua migrations of that kind whose version is >= luaVersion (none
// when luaVersion is empty), in ascending version order; then the platform
// migrations of that kind whose canonical id is requested, in request order
// (requested ids without a migration of this kind are skipped).
func (p *Plugin) migrationChain(kind, luaVersion string, requested []string) ([]Migration, error) {
	var chain []Migration
	if luaVersion != "" {
		from, err := protocol.CanonicalLuaVersion(luaVersion)
		if err != nil {
			return nil, err
		}
		type lua struct {
			v string
			m Migration
		}
		var luas []lua
		for _, m := range p.Migrations {
			if m.Kind != kind || m.Type != sdk.LuaMigration {
				continue
			}
			v, err := protocol.CanonicalLuaVersion(m.ID)
			if err != nil {
				continue
			}
			if protocol.CompareLuaVersions(v, from) >= 0 {
				luas = append(luas, lua{v, m})
			}
		}
		slices.SortStableFunc(luas, func(a, b lua) int { return protocol.CompareLuaVersions(a.v, b.v) })
		for _, l := range luas {
			chain = append(chain, l.m)
		}
	}
	byID := map[string]Migration{}
	for _, m := range p.Migrations {
		if m.Kind != kind || m.Type != sdk.PlatformMigration {
			continue
		}
		if c, err := protocol.CanonicalMigrationID(m.ID); err == nil {
			byID[c] = m
		}
	}
	for _, id := range requested {
		c, err := protocol.CanonicalMigrationID(id)
		if err != nil {
			return nil, fmt.Errorf("the upgrade request's %w", err)
		}
		if m, ok := byID[c]; ok {
			chain = append(chain, m)
		}
	}
	return chain, nil
}

// migrationProblems checks the migrations with the platform's
// registration rules (protocol.CheckMigrations), with its messages.
func (p *Plugin) migrationProblems() []string {
	decls := make([]protocol.MigrationDecl, len(p.Migrations))
	for i, m := range p.Migrations {
		decls[i] = protocol.MigrationDecl{Kind: m.Kind, ID: m.ID, Type: m.Type, Function: m.functionName(i), NoFunc: m.Func == nil}
	}
	found, _ := protocol.CheckMigrations(decls)
	var problems []string
	for _, f := range found {
		problems = append(problems, f.Message)
	}
	return problems
}
