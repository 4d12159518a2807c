package core

import "testing"

// An upload of the build number already installed replaces the code and
// keeps the build: it is not told as an upgrade from a build to itself.
func TestUpgradeWords(t *testing.T) {
	for _, c := range []struct{ verb, from, to, want string }{
		{"Upgrading", "1.0", "1.2", `Upgrading plugin "p" from build 1.0 to build 1.2.`},
		{"Upgrading", "0.1", "0.1", `Reinstalling build 0.1 of plugin "p".`},
		{"Upgrade", "0.1", "0.1", `Reinstall build 0.1 of plugin "p".`},
		{"Upgrade", "1", "2", `Upgrade plugin "p" from build 1 to build 2.`},
	} {
		if got := upgradeWords(c.verb, `"p"`, c.from, c.to); got != c.want {
			t.Errorf("upgradeWords(%q, %s, %s) = %q, want %q", c.verb, c.from, c.to, got, c.want)
		}
	}
}
