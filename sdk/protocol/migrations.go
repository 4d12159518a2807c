package protocol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/sdk"
)

// MigrationDecl is a registered migration as the registration rules see it.
type MigrationDecl struct {
	Kind     string            // one of UpgradeKinds
	ID       string            // as the author wrote it
	Type     sdk.MigrationType // platform or Lua
	Function string            // names the migration in messages
	NoFunc   bool              // registered without a function (the runtime's check)
}

// MigrationProblem is what is wrong with the migration at Index.
type MigrationProblem struct {
	Index   int
	Message string
}

// CheckMigrations applies the registration rules of migrations (the ones
// the Delphix platform applies when it loads a plugin; docs/build.md lists
// them with their messages): a known kind, a function, platform ids in the
// dotted-number format, not zero and unique by canonical form across
// kinds; Lua versions major.minor and unique per kind. It returns the
// problems in order and the canonical ids of the valid platform
// migrations, sorted. The runtime checks at registration and dvp build
// checks the plugin's manifest with it.
func CheckMigrations(ms []MigrationDecl) ([]MigrationProblem, []string) {
	var problems []MigrationProblem
	seenPlatform := map[string]bool{}       // canonical id -> used, across kinds
	seenLua := map[string]map[string]bool{} // kind -> canonical version -> used
	ids := []string{}                       // never null in the artifact's migrationIdList
	for i, m := range ms {
		fail := func(format string, args ...any) {
			problems = append(problems, MigrationProblem{Index: i, Message: fmt.Sprintf(format, args...)})
		}
		fn := m.Function
		if !slices.Contains(UpgradeKinds, m.Kind) {
			fail("The migration '%s' used in the function '%s' has the kind '%s', which is not one of %s.", m.ID, fn, m.Kind, strings.Join(UpgradeKinds, ", "))
			continue
		}
		if m.NoFunc {
			fail("The migration '%s' registered for 'upgrade.%s()' has no function.", m.ID, m.Kind)
		}
		switch m.Type {
		case sdk.PlatformMigration:
			if !DottedNumberPattern().MatchString(m.ID) {
				fail("The migration id '%s' used in the function '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'.", m.ID, fn)
				continue
			}
			c, err := CanonicalMigrationID(m.ID)
			if err != nil {
				fail("The migration id '%s' used in the function '%s' cannot be used because a 0 migration id is not allowed.", m.ID, fn)
				continue
			}
			if seenPlatform[c] {
				fail("The migration id '%s' used in the function '%s' has the same canonical form '%s' as another migration.", m.ID, fn, c)
				continue
			}
			seenPlatform[c] = true
			ids = append(ids, c)
		case sdk.LuaMigration:
			c, err := CanonicalLuaVersion(m.ID)
			if err != nil {
				fail("The lua major minor version '%s' used in the function '%s' decorated by 'upgrade.%s()' does not follow the correct format '^\\d+\\.\\d+$'.", m.ID, fn, m.Kind)
				continue
			}
			if seenLua[m.Kind] == nil {
				seenLua[m.Kind] = map[string]bool{}
			}
			if seenLua[m.Kind][c] {
				fail("The lua major minor version '%s' used in the function '%s' decorated by 'upgrade.%s()' has already been used.", m.ID, fn, m.Kind)
				continue
			}
			seenLua[m.Kind][c] = true
		default:
			fail("The migration '%s' used in the function '%s' has the migration type %d, which is not supported.", m.ID, fn, int(m.Type))
		}
	}
	slices.SortFunc(ids, CompareMigrationIDs)
	return problems, ids
}
