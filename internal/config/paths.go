package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dvpkit/dvp/internal/diag"
)

// resolvePaths resolves schemaFile and srcDir relative to the config file's
// directory (docs/validation.md, plugin_config.yml), without dvp's
// string-prefix quirk (docs/compatibility.md, plugin_config.yml): srcDir
// must lie strictly inside the plugin root, tested on path components.
func (c *Config) resolvePaths(obj map[string]any) diag.List {
	var out diag.List
	if s, ok := obj["schemaFile"].(string); ok {
		p, prob := c.resolveSchemaFile(s)
		c.SchemaPath = p
		if prob != nil {
			out = append(out, *prob)
		}
	}
	if s, ok := obj["srcDir"].(string); ok {
		p, prob := c.resolveSrcDir(s)
		c.SrcPath = p
		if prob != nil {
			out = append(out, *prob)
		}
	}
	return out
}

func (c *Config) pathProblem(key, msg, hint string) *diag.Problem {
	l, col := c.Position(key)
	return &diag.Problem{File: c.Path, Line: l, Column: col, Pointer: "/" + key, Severity: diag.Error, Message: msg, Hint: hint}
}

func (c *Config) resolveSchemaFile(s string) (string, *diag.Problem) {
	// As dvp: the path joined as written (Python's os.path.join, not
	// cleaned) is the one looked up and named in the messages, so that
	// "schema.json/" or "nodir/../schema.json" do not exist, as the
	// system says; the path used from then on is the cleaned one.
	p := s
	if !filepath.IsAbs(p) {
		p = c.Dir
		if !strings.HasSuffix(p, string(filepath.Separator)) {
			p += string(filepath.Separator)
		}
		p += s
	}
	st, err := os.Stat(p)
	switch {
	case notExist(err):
		return "", c.pathProblem("schemaFile", fmt.Sprintf("The path '%s' does not exist.", p),
			"schemaFile is relative to the directory of plugin_config.yml; create the file or fix the path")
	case err != nil:
		return "", c.pathProblem("schemaFile", fmt.Sprintf("The path '%s' cannot be accessed: %s", p, unwrapPathErr(err)),
			"check the permissions of the path")
	case !st.Mode().IsRegular():
		return "", c.pathProblem("schemaFile", fmt.Sprintf("The path '%s' should be a file but is not.", p),
			"schemaFile must name the schema.json file, not a directory")
	}
	return filepath.Clean(p), nil
}

// notExist tells whether a lookup failed because there is nothing at the
// path, as Python's os.path.exists says False: no such file, a file where
// a directory was needed ("schema.json/"), a loop of links, a name too
// long.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENAMETOOLONG)
}

func (c *Config) resolveSrcDir(s string) (string, *diag.Problem) {
	expanded := expandUser(s)
	if filepath.IsAbs(expanded) || filepath.VolumeName(expanded) != "" {
		return "", c.pathProblem("srcDir", fmt.Sprintf("The path '%s' should be a relative path, but is not.", expanded),
			"srcDir is relative to the directory of plugin_config.yml, e.g. srcDir: src")
	}
	p := filepath.Clean(filepath.Join(c.Dir, expanded))
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", c.pathProblem("srcDir", fmt.Sprintf("The path '%s' does not exist.", p),
			"srcDir is relative to the directory of plugin_config.yml; create the directory or fix the path")
	case err != nil:
		return "", c.pathProblem("srcDir", fmt.Sprintf("The path '%s' cannot be accessed: %s", p, unwrapPathErr(err)),
			"check the permissions of the path")
	case !st.IsDir():
		return "", c.pathProblem("srcDir", fmt.Sprintf("The path '%s' should be a directory but is not.", p),
			"srcDir must name the directory holding the plugin's source code")
	}
	if !strictlyInside(c.Dir, p) {
		return "", c.pathProblem("srcDir", fmt.Sprintf("The src directory %s is not a subdirectory of the plugin root at %s", p, c.Dir),
			"srcDir must be a directory below the one holding plugin_config.yml, e.g. srcDir: src")
	}
	return p, nil
}

// strictlyInside reports whether p is below root (both clean and absolute),
// comparing whole path components.
func strictlyInside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." || filepath.IsAbs(rel) {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// expandUser is Python's os.path.expanduser: "~" and "~/..." start at the
// home directory ($HOME), "~name/..." at the home directory of user name;
// anything else, or an unknown user, is left as it is.
func expandUser(s string) string {
	if !strings.HasPrefix(s, "~") {
		return s
	}
	name, rest, _ := strings.Cut(s[1:], "/")
	var home string
	if name == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return s
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return s
		}
		home = u.HomeDir
	}
	if home == "" {
		return s
	}
	return filepath.Join(home, rest)
}

func unwrapPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
