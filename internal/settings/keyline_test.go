package settings

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// A config file that is a directory, a device or a named pipe, or that is
// over 1 MiB, is refused before it is read (reading /dev/zero whole never
// ended), saying what it is; a long bad line is quoted by its start.
func TestConfigFileNotRegular(t *testing.T) {
	cases := map[string]struct {
		make func(path string) error
		want string
	}{
		"directory": {func(p string) error { return os.Mkdir(p, 0o755) }, "it is a directory"},
		"device":    {func(p string) error { return os.Symlink("/dev/zero", p) }, "it is a device, not a regular file"},
		"fifo":      {func(p string) error { return syscall.Mkfifo(p, 0o600) }, "it is a FIFO, not a regular file"},
		"too big": {func(p string) error { return os.WriteFile(p, make([]byte, maxConfigBytes+1), 0o600) },
			"it is 1048577 bytes, more than the 1048576 a config file may have"},
		"long line": {func(p string) error {
			return os.WriteFile(p, []byte("[default]\n"+strings.Repeat("x", 5000)+"\n"), 0o600)
		},
			`:2: "` + strings.Repeat("x", 80) + `"... is not a setting`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			os.MkdirAll(filepath.Join(home, ".dvp"), 0o755)
			if err := c.make(ConfigPath(home)); err != nil {
				t.Skip(err)
			}
			_, err := Load(Options{Home: home})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load: %v, want an error with %q", err, c.want)
			}
		})
	}
}
