package protocol

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// The rules for build numbers, platform migration ids and Lua versions, in
// one place: dvp validate and dvp build, the artifact checks, the engine's
// upgrade checks and the plugin runtime all use them (docs/build.md,
// manifest checks; docs/engine.md, upload checks).
//
// A build number and a platform migration id are both dot-separated decimal
// integers of any length. Their canonical form writes each part without
// leading zeros and drops trailing zero parts ("2019.04.01" -> "2019.4.1",
// "50.0.0" -> "50", "1.0.01.0" -> "1.0.1"); they are ordered numerically,
// part by part, with missing parts counting as 0 ("4.10.4" < "10.1",
// "1" = "1.0.0" < "1.2"). Neither may be all zeros.

// DottedNumberPattern is the format of a build number and of a platform
// migration id.
var DottedNumberPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`) })

// LuaVersionPattern is the format of a Lua migration's "major.minor"
// version.
var LuaVersionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+\.[0-9]+$`) })

// numericParts splits a dotted number into its parts without leading zeros
// (an all-zero part becomes "0").
func numericParts(s string) []string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = trimZeros(p)
	}
	return parts
}

func trimZeros(digits string) string {
	t := strings.TrimLeft(digits, "0")
	if t == "" {
		return "0"
	}
	return t
}

// CanonicalNumber returns the canonical form of a dotted number: each part
// without leading zeros, trailing zero parts dropped, at least one part
// kept ("50.0.0" -> "50", "0.0" -> "0"). It does not check the format:
// callers match DottedNumberPattern first.
func CanonicalNumber(s string) string {
	parts := numericParts(s)
	for len(parts) > 1 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, ".")
}

// CanonicalBuildNumber returns the canonical form of a build number; ok is
// false when s is not dot-separated integers or is all zeros.
func CanonicalBuildNumber(s string) (canonical string, ok bool) {
	if !DottedNumberPattern().MatchString(s) {
		return "", false
	}
	c := CanonicalNumber(s)
	return c, c != "0"
}

// CanonicalMigrationID returns the canonical form of a platform migration
// id ("2019.04.01" -> "2019.4.1", "50.0.0" -> "50", "50.0.0000.1" ->
// "50.0.0.1"). It fails for an id that does not match ^\d+(\.\d+)*$ or
// that is all zeros.
func CanonicalMigrationID(id string) (string, error) {
	if !DottedNumberPattern().MatchString(id) {
		return "", fmt.Errorf("the migration id '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'", id)
	}
	c := CanonicalNumber(id)
	if c == "0" {
		return "", fmt.Errorf("the migration id '%s' cannot be used because a 0 migration id is not allowed", id)
	}
	return c, nil
}

// compareNumbers compares two decimal integers without leading zeros, of
// any length.
func compareNumbers(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// CompareBuildNumbers compares dotted numbers (build numbers, platform
// migration ids; canonical or not) numerically, most significant part
// first, missing parts counting as 0: -1 if a < b, 0 if equal, +1 if
// a > b. Parts may have any number of digits.
func CompareBuildNumbers(a, b string) int {
	pa, pb := numericParts(a), numericParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if c := compareNumbers(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// CompareMigrationIDs orders platform migration ids: the build-number
// order (a migrationIdList is sorted by it).
func CompareMigrationIDs(a, b string) int { return CompareBuildNumbers(a, b) }

// CanonicalLuaVersion returns "major.minor" with each part without leading
// zeros ("00.30" -> "0.30", "1.04" -> "1.4"). It fails for a version that
// does not match ^\d+\.\d+$.
func CanonicalLuaVersion(v string) (string, error) {
	if !LuaVersionPattern().MatchString(v) {
		return "", fmt.Errorf("the lua major minor version '%s' does not follow the correct format '^\\d+\\.\\d+$'", v)
	}
	major, minor, _ := strings.Cut(v, ".")
	return trimZeros(major) + "." + trimZeros(minor), nil
}

// CompareLuaVersions orders canonical Lua versions numerically by major then
// minor: 1.9 < 1.10. (The Python platform compares them as floats, which
// puts 1.10 before 1.9; dvp does not copy that quirk: see
// docs/compatibility.md, Lua migrations.)
func CompareLuaVersions(a, b string) int {
	amaj, amin, _ := strings.Cut(a, ".")
	bmaj, bmin, _ := strings.Cut(b, ".")
	if c := compareNumbers(amaj, bmaj); c != 0 {
		return c
	}
	return compareNumbers(amin, bmin)
}
