// Package settings resolves the engine connection settings (engine, user,
// password) from, in order of precedence: command-line flags, the
// environment (DVP_ENGINE, DVP_USER, DVP_PASSWORD), the INI file
// ~/.dvp/config (docs/compatibility.md, The command line), and defaults. Each command tree gets its own
// viper instance; the global one is never used. The environment is the
// one the caller injects (Options.Getenv), never the process's own.
package settings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/ini.v1"
)

// Keys of the settings, named as in the [default] section of ~/.dvp/config.
const (
	KeyEngine   = "engine"
	KeyUser     = "user"
	KeyPassword = "password"
	KeyVSDKRoot = "dev.vsdk_root"
)

// envNames maps a key to the environment variable that sets it.
var envNames = map[string]string{
	KeyEngine:   "DVP_ENGINE",
	KeyUser:     "DVP_USER",
	KeyPassword: "DVP_PASSWORD",
}

// EnvName is the environment variable that sets key ("" when none does).
func EnvName(key string) string { return envNames[key] }

// ConfigPath is ~/.dvp/config under home.
func ConfigPath(home string) string { return filepath.Join(home, ".dvp", "config") }

// Source names the layer a value came from, for messages and tests.
type Source string

const (
	FromFlag    Source = "flag"
	FromEnv     Source = "environment"
	FromFile    Source = "config file"
	FromDefault Source = "default"
	FromNowhere Source = ""
)

// Settings is one command's view of the layered settings.
type Settings struct {
	v      *viper.Viper
	flags  *pflag.FlagSet
	getenv func(string) string
	file   map[string]any
	path   string
	warns  []string
}

// Options says where to look.
type Options struct {
	Home  string         // directory holding .dvp/config; "" reads no file
	Flags *pflag.FlagSet // flags named engine/user/password, bound when present
	// Getenv reads the environment (DVP_ENGINE, DVP_USER, DVP_PASSWORD);
	// nil is an empty one.
	Getenv func(string) string
}

// Load reads ~/.dvp/config (a missing file is not an error) and binds the
// given flags; Get reads the environment.
func Load(o Options) (*Settings, error) {
	reg := viper.NewCodecRegistry()
	if err := reg.RegisterCodec("ini", iniCodec{home: o.Home}); err != nil {
		return nil, err
	}
	v := viper.NewWithOptions(viper.WithCodecRegistry(reg))
	s := &Settings{v: v, flags: o.Flags, getenv: o.Getenv}
	if o.Home != "" {
		s.path = ConfigPath(o.Home)
		v.SetConfigFile(s.path)
		v.SetConfigType("ini")
		if err := checkReadable(s.path); err != nil {
			return nil, err
		}
		if b, err := os.ReadFile(s.path); err == nil {
			if msg := checkFormat(s.path, b); msg != "" {
				return nil, fmt.Errorf("%s\n%s", msg, configFormatHint)
			}
		}
		if err := v.ReadInConfig(); err != nil {
			var ie *interpolationError
			if errors.As(err, &ie) {
				b, _ := os.ReadFile(s.path)
				at := s.path
				if n := keyLine(b, ie.section, ie.key); n > 0 {
					at = fmt.Sprintf("%s:%d", s.path, n)
				} else if n := keyLine(b, defaultSection, ie.key); n > 0 {
					at = fmt.Sprintf("%s:%d", s.path, n)
				}
				return nil, fmt.Errorf("%s: %v\n%s", at, ie, configFormatHint)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || !errors.Is(pe.Err, fs.ErrNotExist) {
				return nil, fmt.Errorf("cannot read the dvp config file %s: %v\n%s", s.path, err, configFormatHint)
			}
		}
		s.file = v.AllSettings()
		s.warns = checkFile(s.path)
	}
	if o.Flags != nil {
		for key := range envNames { // the keys with flags: engine, user, password
			if f := o.Flags.Lookup(key); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, err
				}
			}
		}
	}
	return s, nil
}

// Get returns the value of key (flag > environment > config file > flag
// default; viper resolves all but the environment) and the layer it came
// from. Empty environment variables count as unset, so an empty DVP_USER
// does not hide the file.
func (s *Settings) Get(key string) (string, Source) {
	if s.flags != nil {
		if f := s.flags.Lookup(key); f != nil && f.Changed {
			return s.v.GetString(key), FromFlag
		}
	}
	if val := s.env(key); val != "" {
		return val, FromEnv
	}
	val := s.v.GetString(key)
	if s.inFile(key) {
		return val, FromFile
	}
	if val != "" {
		return val, FromDefault
	}
	return val, FromNowhere
}

// env is the value of key's environment variable ("" when it has none).
func (s *Settings) env(key string) string {
	name, ok := envNames[key]
	if !ok || s.getenv == nil {
		return ""
	}
	return s.getenv(name)
}

// inFile reports whether key was set by the config file (as opposed to a
// default or binding that viper also answers GetString for).
func (s *Settings) inFile(key string) bool {
	if s.file == nil {
		return false
	}
	cur := any(s.file)
	for _, part := range splitKey(key) {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func splitKey(k string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			parts = append(parts, k[start:i])
			start = i + 1
		}
	}
	return append(parts, k[start:])
}

// Warnings are the config file's sections and keys that dvp does not read,
// each as "FILE:LINE: message" with a "did you mean" when one is close
// ([defualt] for [default]): dvp ignores them, as configparser does, but
// says so.
func (s *Settings) Warnings() []string { return s.warns }

// maxConfigBytes bounds what checkFile reads of the config file.
const maxConfigBytes = 1 << 20

// checkFile finds the sections and keys of the config file at path that
// dvp does not read.
func checkFile(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes))
	if err != nil {
		return nil
	}
	sections := make([]string, 0, len(knownKeys))
	for name := range knownKeys {
		sections = append(sections, name)
	}
	sort.Strings(sections)
	var warns []string
	section := ""
	defaultsLine, hasDefault := 0, false // [DEFAULT]'s line; whether [default] is there
	keyIndent := -1                      // the indentation of the last key; deeper lines continue its value
	for i, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if indent := len(line) - len(strings.TrimLeft(line, " \t")); keyIndent >= 0 && indent > keyIndent {
			continue
		}
		at := fmt.Sprintf("%s:%d: ", path, i+1)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			section = strings.TrimSpace(t[1 : len(t)-1])
			keyIndent = -1
			switch section {
			case defaultSection:
				defaultsLine = i + 1
			case "default":
				hasDefault = true
			}
			if _, ok := knownKeys[section]; !ok && section != defaultSection {
				w := at + fmt.Sprintf("dvp reads no section [%s]", section)
				if s := jsonschemamsg.Suggest(section, sections, 2); s != "" {
					w += fmt.Sprintf("; did you mean [%s]?", s)
				} else {
					w += fmt.Sprintf(" (it reads [%s])", strings.Join(sections, "], ["))
				}
				warns = append(warns, w)
			}
			continue
		}
		keys, ok := knownKeys[section]
		if !ok {
			continue
		}
		key, _, _ := cutDelimiter(t)
		keyIndent = len(line) - len(strings.TrimLeft(line, " \t"))
		if slices.Contains(keys, key) {
			continue
		}
		w := at + fmt.Sprintf("dvp reads no key %q in [%s]", key, section)
		if s := jsonschemamsg.Suggest(key, keys, 2); s != "" {
			w += fmt.Sprintf("; did you mean %q?", s)
		} else {
			w += fmt.Sprintf(" (it reads %s)", strings.Join(keys, ", "))
		}
		warns = append(warns, w)
	}
	if defaultsLine > 0 && !hasDefault {
		// configparser's defaults apply only to the sections there are.
		warns = append(warns, fmt.Sprintf("%s:%d: dvp reads [DEFAULT] only as the defaults of [default], and there is no [default]; did you mean [default]?", path, defaultsLine))
	}
	return warns
}

// ConfigFile is the path of the config file that was read ("" when none).
func (s *Settings) ConfigFile() string { return s.path }

// FileHasPassword reports whether the config file holds a password, which
// (as in dvp) turns off the interactive password prompt.
func (s *Settings) FileHasPassword() bool { return s.inFile(KeyPassword) }

// iniCodec decodes ~/.dvp/config the way dvp's configparser reading does:
// keys of [default] at the top level, keys of [dev] under "dev", every other
// section ignored, keys case-sensitive (a key spelled "Engine" is not "engine").
type iniCodec struct {
	home string // for ~ in dev.vsdk_root
}

var knownKeys = map[string][]string{
	"default": {KeyEngine, KeyUser, KeyPassword},
	"dev":     {"vsdk_root"},
}

func (c iniCodec) Decode(b []byte, out map[string]any) error {
	f, err := ini.LoadSources(ini.LoadOptions{
		// configparser keeps '#' and ';' only as whole-line comments, and
		// values may contain them (a password like "a#b").
		IgnoreInlineComment: true,
		// [DEFAULT] is configparser's special section, not [default].
		Insensitive: false,
		// configparser keeps quotes as part of the value
		// (password = "x" is the password "x", quotes included).
		PreserveSurroundedQuote: true,
		// Indented lines continue the value above, as in configparser.
		AllowPythonMultilineValues: true,
	}, b)
	if err != nil {
		return err
	}
	raw := func(sec *ini.Section) map[string]string {
		vals := map[string]string{}
		for _, k := range sec.Keys() {
			vals[k.Name()] = continuationLines(k.Value())
		}
		return vals
	}
	defaults := map[string]string{}
	if sec, err := f.GetSection(defaultSection); err == nil {
		defaults = raw(sec)
	}
	for _, sec := range f.Sections() {
		keys, ok := knownKeys[sec.Name()]
		if !ok {
			continue
		}
		dst := out
		if sec.Name() == "dev" {
			dst = map[string]any{}
			out["dev"] = dst
		}
		// configparser's view of the section: [DEFAULT] below it, and
		// each value interpolated (interpolate.go).
		vals := sectionValues(raw(sec), defaults)
		for _, k := range keys {
			if _, ok := vals[k]; !ok {
				continue
			}
			val, err := interpolate(sec.Name(), k, vals)
			if err != nil {
				return err
			}
			if k == "vsdk_root" {
				val = expandHome(val, c.home)
			}
			dst[k] = val
		}
	}
	return nil
}

// continuationLines trims each line of a value continued on indented
// lines, as configparser does (the lines are joined by newlines; empty
// trailing lines are dropped).
func continuationLines(v string) string {
	if !strings.Contains(v, "\n") {
		return v
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

func (iniCodec) Encode(map[string]any) ([]byte, error) {
	return nil, errors.New("dvp never writes its config file")
}

func expandHome(p, home string) string {
	if home != "" && (p == "~" || len(p) > 1 && p[:2] == "~/") {
		return filepath.Join(home, p[1:])
	}
	return p
}
