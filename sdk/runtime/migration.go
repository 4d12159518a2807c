package runtime

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

var (
	platformIDFormat = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	luaVersionFormat = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
)

// CanonicalMigrationID returns the canonical form of a platform migration id:
// its integers without leading zeros, trailing zero parts removed
// ("2019.04.01" -> "2019.4.1", "50.0.0" -> "50", "50.0.0000.1" -> "50.0.0.1").
// It fails for an id that does not match ^\d+(\.\d+)*$ or that is all zeros.
func CanonicalMigrationID(id string) (string, error) {
	if !platformIDFormat.MatchString(id) {
		return "", fmt.Errorf("the migration id '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'", id)
	}
	parts := strings.Split(id, ".")
	for i, p := range parts {
		parts[i] = trimZeros(p)
	}
	for len(parts) > 0 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("the migration id '%s' cannot be used because a 0 migration id is not allowed", id)
	}
	return strings.Join(parts, "."), nil
}

// CanonicalLuaVersion returns "major.minor" with each part without leading
// zeros ("00.30" -> "0.30", "1.04" -> "1.4"). It fails for a version that
// does not match ^\d+\.\d+$.
func CanonicalLuaVersion(v string) (string, error) {
	if !luaVersionFormat.MatchString(v) {
		return "", fmt.Errorf("the lua major minor version '%s' does not follow the correct format '^\\d+\\.\\d+$'", v)
	}
	major, minor, _ := strings.Cut(v, ".")
	return trimZeros(major) + "." + trimZeros(minor), nil
}

func trimZeros(digits string) string {
	t := strings.TrimLeft(digits, "0")
	if t == "" {
		return "0"
	}
	return t
}

// compareNumbers compares two canonical (no leading zeros) decimal integers
// of any length.
func compareNumbers(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// CompareMigrationIDs orders canonical platform migration ids as integer
// arrays ("4.10.4" < "10.1"; "1" < "1.2").
func CompareMigrationIDs(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if c := compareNumbers(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

// CompareLuaVersions orders canonical Lua versions numerically by major then
// minor: 1.9 < 1.10. (The Python platform compares them as floats, which puts
// 1.10 before 1.9; this runtime does not copy that quirk.)
func CompareLuaVersions(a, b string) int {
	amaj, amin, _ := strings.Cut(a, ".")
	bmaj, bmin, _ := strings.Cut(b, ".")
	if c := compareNumbers(amaj, bmaj); c != 0 {
		return c
	}
	return compareNumbers(amin, bmin)
}

// SortedMigrationIDs returns the canonical ids of the platform migrations,
// sorted as integer arrays: the artifact's migrationIdList. Invalid ids are
// left out (Problems reports them).
func (p *Plugin) SortedMigrationIDs() []string {
	var ids []string
	for _, m := range p.Migrations {
		if m.Type != sdk.PlatformMigration {
			continue
		}
		if c, err := CanonicalMigrationID(m.ID); err == nil {
			ids = append(ids, c)
		}
	}
	slices.SortFunc(ids, CompareMigrationIDs)
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
		from, err := CanonicalLuaVersion(luaVersion)
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
			v, err := CanonicalLuaVersion(m.ID)
			if err != nil {
				continue
			}
			if CompareLuaVersions(v, from) >= 0 {
				luas = append(luas, lua{v, m})
			}
		}
		slices.SortStableFunc(luas, func(a, b lua) int { return CompareLuaVersions(a.v, b.v) })
		for _, l := range luas {
			chain = append(chain, l.m)
		}
	}
	byID := map[string]Migration{}
	for _, m := range p.Migrations {
		if m.Kind != kind || m.Type != sdk.PlatformMigration {
			continue
		}
		if c, err := CanonicalMigrationID(m.ID); err == nil {
			byID[c] = m
		}
	}
	for _, id := range requested {
		c, err := CanonicalMigrationID(id)
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
			if !platformIDFormat.MatchString(m.ID) {
				problems = append(problems, fmt.Sprintf("The migration id '%s' used in the function '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'.", m.ID, fn))
				continue
			}
			c, err := CanonicalMigrationID(m.ID)
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
			c, err := CanonicalLuaVersion(m.ID)
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
