package protocol

import "testing"

func TestCanonicalMigrationID(t *testing.T) {
	for in, want := range map[string]string{
		"5.3.2.1": "5.3.2.1", "1000": "1000", "50.0.0": "50", "50.0.0000.1": "50.0.0.1", "2019.10.04": "2019.10.4",
		"5.04.000.01": "5.4.0.1", "007": "7", "99999999999999999999999.1": "99999999999999999999999.1",
	} {
		if got, err := CanonicalMigrationID(in); err != nil || got != want {
			t.Errorf("CanonicalMigrationID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"1234.0.0.", "", ".1", "1..2", "a.1", "0", "0.0.000", "1.-2"} {
		if got, err := CanonicalMigrationID(in); err == nil {
			t.Errorf("CanonicalMigrationID(%q) = %q, want an error", in, got)
		}
	}
}

func TestCanonicalLuaVersion(t *testing.T) {
	for in, want := range map[string]string{"00.30": "0.30", "1.04": "1.4", "5.50": "5.50", "0.0": "0.0"} {
		if got, err := CanonicalLuaVersion(in); err != nil || got != want {
			t.Errorf("CanonicalLuaVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"1.0.patchversion", "1000.", "1", "1.2.3", ""} {
		if _, err := CanonicalLuaVersion(in); err == nil {
			t.Errorf("CanonicalLuaVersion(%q) accepted", in)
		}
	}
}

func TestBuildNumbers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1", "1.0.0", 0}, {"1.10", "1.9", 1}, {"2", "10", -1}, {"0.1", "0.0.9", 1}, {"02.5000", "2.5000", 0},
		{"1.0.1", "1.0.0.0", 1}, {"99999999999999999999", "99999999999999999998", 1}, {"1.2", "1.2.0.1", -1},
	} {
		if got := CompareBuildNumbers(c.a, c.b); got != c.want {
			t.Errorf("CompareBuildNumbers(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for in, want := range map[string]string{"0.0.1": "0.0.1", "0.1.0": "0.1", "1.0.01.0": "1.0.1", "2.0.0": "2", "5.3.0.0": "5.3", "02.5000": "2.5000", "50.0.0000.1": "50.0.0.1"} {
		if got := CanonicalNumber(in); got != want {
			t.Errorf("CanonicalNumber(%s) = %s, want %s", in, got, want)
		}
	}
}
