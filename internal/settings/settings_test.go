package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func writeConfig(t *testing.T, home, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(home, ".dvp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ConfigPath(home), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func flags(args ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("upload", pflag.ContinueOnError)
	fs.StringP("engine", "e", "", "")
	fs.StringP("user", "u", "admin-default", "")
	fs.String("password", "", "")
	if err := fs.Parse(args); err != nil {
		panic(err)
	}
	return fs
}

// envOf is an environment of the given names and values (Options.Getenv).
func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func get(t *testing.T, s *Settings, key string) (string, Source) {
	t.Helper()
	return s.Get(key)
}

func TestPrecedenceEachLayer(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, home, "[default]\nengine = file.example.com\nuser = fileuser\npassword = filepw#not-a-comment\n[dev]\nvsdk_root = ~/vsdk\n")

	t.Run("file", func(t *testing.T) {
		s, err := Load(Options{Home: home, Flags: flags(), Getenv: envOf()})
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{KeyEngine: "file.example.com", KeyUser: "fileuser", KeyPassword: "filepw#not-a-comment"} {
			if v, src := get(t, s, key); v != want || src != FromFile {
				t.Errorf("%s = %q from %q, want %q from file", key, v, src, want)
			}
		}
		if !s.FileHasPassword() {
			t.Error("FileHasPassword should be true")
		}
		if v, _ := s.Get(KeyVSDKRoot); v == "" || v[0] != '/' || v != filepath.Join(home, "vsdk") {
			t.Errorf("vsdk_root should be ~-expanded (in Options.Home), got %q", v)
		}
	})
	t.Run("environment beats file", func(t *testing.T) {
		s, err := Load(Options{Home: home, Flags: flags(), Getenv: envOf("DVP_ENGINE", "env.example.com", "DVP_PASSWORD", "envpw")})
		if err != nil {
			t.Fatal(err)
		}
		if v, src := s.Get(KeyEngine); v != "env.example.com" || src != FromEnv {
			t.Errorf("engine = %q from %q", v, src)
		}
		if v, src := s.Get(KeyPassword); v != "envpw" || src != FromEnv {
			t.Errorf("password = %q from %q", v, src)
		}
		if v, src := s.Get(KeyUser); v != "fileuser" || src != FromFile {
			t.Errorf("user = %q from %q", v, src)
		}
	})
	t.Run("flag beats environment", func(t *testing.T) {
		s, err := Load(Options{Home: home, Flags: flags("-e", "flag.example.com"), Getenv: envOf("DVP_ENGINE", "env.example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if v, src := s.Get(KeyEngine); v != "flag.example.com" || src != FromFlag {
			t.Errorf("engine = %q from %q", v, src)
		}
	})
	t.Run("default when nothing else", func(t *testing.T) {
		s, err := Load(Options{Home: t.TempDir(), Flags: flags()})
		if err != nil {
			t.Fatal(err)
		}
		if v, src := s.Get(KeyUser); v != "admin-default" || src != FromDefault {
			t.Errorf("user = %q from %q", v, src)
		}
		if v, src := s.Get(KeyEngine); v != "" || src != FromNowhere {
			t.Errorf("engine = %q from %q", v, src)
		}
		if s.FileHasPassword() {
			t.Error("no file, no password")
		}
	})
	t.Run("empty environment does not hide the file", func(t *testing.T) {
		s, err := Load(Options{Home: home, Flags: flags(), Getenv: envOf("DVP_ENGINE", "", "DVP_USER", "", "DVP_PASSWORD", "")})
		if err != nil {
			t.Fatal(err)
		}
		if v, src := s.Get(KeyEngine); v != "file.example.com" || src != FromFile {
			t.Errorf("engine = %q from %q", v, src)
		}
	})
	t.Run("the process's environment is not read", func(t *testing.T) {
		t.Setenv("DVP_ENGINE", "process.example.com")
		s, err := Load(Options{Home: home, Flags: flags(), Getenv: envOf()})
		if err != nil {
			t.Fatal(err)
		}
		if v, src := s.Get(KeyEngine); v != "file.example.com" || src != FromFile {
			t.Errorf("engine = %q from %q", v, src)
		}
	})
}

func TestINIAsConfigparser(t *testing.T) {
	home := t.TempDir()
	// [DEFAULT] is configparser's special section, whose keys every other
	// section has unless it sets them (Python 3.11's configparser gives
	// engine = "special" for [default] here); keys are case-sensitive;
	// other sections are ignored.
	writeConfig(t, home, "[DEFAULT]\nengine = special\n[default]\nEngine = wrongcase\nuser = u\n[other]\npassword = nope\n")
	s, err := Load(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if v, src := s.Get(KeyEngine); v != "special" || src != FromFile {
		t.Errorf("engine = %q from %q, want [DEFAULT]'s special from the file", v, src)
	}
	if v, _ := s.Get(KeyUser); v != "u" {
		t.Errorf("user = %q", v)
	}
	if s.FileHasPassword() {
		t.Error("password in [other] must be ignored")
	}
}

func TestBrokenConfigFile(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, home, "[default\nengine = x\n")
	_, err := Load(Options{Home: home})
	if err == nil {
		t.Fatal("a broken INI file must be reported")
	}
	if !strings.Contains(err.Error(), ConfigPath(home)) {
		t.Errorf("error should name the file: %v", err)
	}
}

// Values are read as Python's configparser reads them (dvp's reader):
// quotes are part of the value, ';' and '#' after a value are not comments,
// an indented line continues the value before it, a '#' line is a comment
// even when indented. The expected values are configparser's.
func TestINIValuesAsConfigparser(t *testing.T) {
	cases := []struct {
		body                   string
		engine, user, password string
	}{
		{"[default]\nengine = e\nuser = \"quoted\"\npassword = 'single'\n", "e", `"quoted"`, "'single'"},
		{"[default]\nengine = e\npassword = multi\n  line\nuser = u\n", "e", "u", "multi\nline"},
		{"[default]\nengine = e ; not a comment\nuser=u # nor this\npassword=p\n", "e ; not a comment", "u # nor this", "p"},
		{"[default]\n  # indented comment\nuser = u\nengine = e\npassword = p\n", "e", "u", "p"},
	}
	for _, c := range cases {
		home := t.TempDir()
		writeConfig(t, home, c.body)
		s, err := Load(Options{Home: home})
		if err != nil {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		for key, want := range map[string]string{KeyEngine: c.engine, KeyUser: c.user, KeyPassword: c.password} {
			if got, _ := s.Get(key); got != want {
				t.Errorf("%q: %s = %q, want %q", c.body, key, got, want)
			}
		}
	}
}

// TestDefaultSectionAlone: [DEFAULT] is not a section of its own: without a
// [default] section, its keys are not read (configparser's sections() does
// not list it, and dvp reads only the sections listed).
func TestDefaultSectionAlone(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, home, "[DEFAULT]\nengine = e\nuser = u\npassword = p\n")
	s, err := Load(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(KeyEngine); v != "" || s.FileHasPassword() {
		t.Errorf("engine = %q, password in file %v: [DEFAULT] alone was read", v, s.FileHasPassword())
	}
	want := ConfigPath(home) + ":1: dvp reads [DEFAULT] only as the defaults of [default], and there is no [default]; did you mean [default]?"
	if w := s.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want %q", w, want)
	}
}

// TestINIInterpolationAsConfigparser: values are interpolated as Python's
// configparser (dvp's reader) does: %% is %, %(name)s the value of another
// key of the section or of [DEFAULT]. The expected values and refusals are
// Python 3.11's; a refusal names the file, the line and the key, never the
// value (it may be a password).
func TestINIInterpolationAsConfigparser(t *testing.T) {
	cases := []struct {
		body             string
		engine, password string
	}{
		{"[default]\nengine = e%%x\npassword = 100%%\n", "e%x", "100%"},
		{"[default]\nuser = admin\nengine = e\npassword = %(user)s-1\n", "e", "admin-1"},
		{"[DEFAULT]\nhost = h.example.com\nsecret = s%%\n[default]\nengine = %(host)s\npassword = %(secret)s!\n", "h.example.com", "s%!"},
		{"[default]\nengine = e\npassword = no-percent (x)s\n", "e", "no-percent (x)s"},
	}
	for _, c := range cases {
		home := t.TempDir()
		writeConfig(t, home, c.body)
		s, err := Load(Options{Home: home})
		if err != nil {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		for key, want := range map[string]string{KeyEngine: c.engine, KeyPassword: c.password} {
			if got, _ := s.Get(key); got != want {
				t.Errorf("%q: %s = %q, want %q", c.body, key, got, want)
			}
		}
	}
	for body, why := range map[string]string{
		"[default]\nengine = e\npassword = se%cret\n":      "has a % that is not followed by % or (",
		"[default]\nengine = e\npassword = %(secret)s\n":   "refers with %(...)s to a key that [default] does not have",
		"[default]\nengine = e\npassword = %(secret\n":     "has a %( that does not start a reference %(name)s",
		"[default]\nengine = e\npassword = %(password)s\n": "do not end within 10 steps",
	} {
		home := t.TempDir()
		writeConfig(t, home, body)
		_, err := Load(Options{Home: home})
		if err == nil {
			t.Errorf("%q: read, want a refusal", body)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, ConfigPath(home)+":3: the value of password in [default] ") || !strings.Contains(msg, why) ||
			!strings.Contains(msg, "write %% for a % sign") {
			t.Errorf("%q: %s", body, msg)
		}
		if strings.Contains(msg, "secret") || strings.Contains(msg, "cret") {
			t.Errorf("%q: the refusal quotes the password: %s", body, msg)
		}
	}
	// Keys dvp does not read are not interpolated, as configparser
	// interpolates only the values read.
	home := t.TempDir()
	writeConfig(t, home, "[default]\nengine = e\nnote = 50%\n")
	if _, err := Load(Options{Home: home}); err != nil {
		t.Errorf("a %% in a key dvp does not read: %v", err)
	}
}
