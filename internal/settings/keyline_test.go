package settings

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKeyLine(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".dvp"), 0o755)
	file := "# dvp\n[dev]\nengine = other\n[default]\nuser = admin\n  continued\n\nengine = not a url\n"
	if err := os.WriteFile(ConfigPath(home), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{KeyEngine: 8, KeyUser: 5, KeyPassword: 0} {
		if got := s.KeyLine(key); got != want {
			t.Errorf("KeyLine(%s) = %d, want %d", key, got, want)
		}
	}
}
