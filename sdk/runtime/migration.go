package runtime

import (
	"fmt"
	"slices"
	"strings"

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

// migrationProblems checks the migrations as the reference platform does at
// registration time, with its messages.
func (p *Plugin) migrationProblems() []string {
	var problems []string
	seenPlatform := map[string]bool{}       // canonical id -> used, across kinds
	seenLua := map[string]map[string]bool{} // kind -> canonical version -> used
	for i, m := range p.Migrations {
		fn := m.functionName(i)
		if !slices.Contains(protocol.UpgradeKinds, m.Kind) {
			problems = append(problems, fmt.Sprintf("The migration '%s' used in the function '%s' has the kind '%s', which is not one of %s.",
				m.ID, fn, m.Kind, strings.Join(protocol.UpgradeKinds, ", ")))
			continue
		}
		if m.Func == nil {
			problems = append(problems, fmt.Sprintf("The migration '%s' registered for 'upgrade.%s()' has no function.", m.ID, m.Kind))
		}
		switch m.Type {
		case sdk.PlatformMigration:
			if !protocol.DottedNumberPattern().MatchString(m.ID) {
				problems = append(problems, fmt.Sprintf("The migration id '%s' used in the function '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'.", m.ID, fn))
				continue
			}
			c, err := protocol.CanonicalMigrationID(m.ID)
			if err != nil {
				problems = append(problems, fmt.Sprintf("The migration id '%s' used in the function '%s' cannot be used because a 0 migration id is not allowed.", m.ID, fn))
				continue
			}
			if seenPlatform[c] {
				problems = append(problems, fmt.Sprintf("The migration id '%s' used in the function '%s' has the same canonical form '%s' as another migration.", m.ID, fn, c))
				continue
			}
			seenPlatform[c] = true
		case sdk.LuaMigration:
			c, err := protocol.CanonicalLuaVersion(m.ID)
			if err != nil {
				problems = append(problems, fmt.Sprintf("The lua major minor version '%s' used in the function '%s' does not follow the correct format '^\\d+\\.\\d+$'.", m.ID, fn))
				continue
			}
			if seenLua[m.Kind] == nil {
				seenLua[m.Kind] = map[string]bool{}
			}
			if seenLua[m.Kind][c] {
				problems = append(problems, fmt.Sprintf("The lua major minor version '%s' used in the function '%s' registered for 'upgrade.%s()' has already been used.", m.ID, fn, m.Kind))
				continue
			}
			seenLua[m.Kind][c] = true
		default:
			problems = append(problems, fmt.Sprintf("The migration '%s' used in the function '%s' has the migration type %d, which is not supported.", m.ID, fn, int(m.Type)))
		}
	}
	return problems
}
