package settings

import (
	"fmt"
	"strings"
)

// Python's configparser, which reads ~/.dvp/config for dvp 5.0.1, gives a
// section's value with two rules of its own that dvp users write their
// file for (docs/compatibility.md, The command line):
//
//   - a key missing from a section is looked up in [DEFAULT] (a section
//     that is read only through the others);
//   - a value is interpolated: %% is one %, %(name)s is the value of the key
//     name of the same section (or [DEFAULT]), and any other % makes the
//     file unreadable (dvp stops before it runs any command).
//
// sectionValues and interpolate apply them; the values a section is given
// are its raw ones, continuation lines joined (continuationLines).

// defaultSection is configparser's (and go-ini's) defaults section.
const defaultSection = "DEFAULT"

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH: how many
// %(name)s references may be followed one through another.
const maxInterpolationDepth = 10

// interpolationError is a value configparser cannot interpolate: its
// section and key, and why. The value itself is never quoted (it may be a
// password).
type interpolationError struct {
	section, key, why string
}

func (e *interpolationError) Error() string {
	return fmt.Sprintf("the value of %s in [%s] %s: dvp reads this file as Python's configparser does, "+
		"where %% starts a reference such as %%(user)s (the value of user), and cannot read it; write %%%% for a %% sign",
		e.key, e.section, e.why)
}

// sectionValues returns the raw values of a section: its own keys over
// those of [DEFAULT].
func sectionValues(own, defaults map[string]string) map[string]string {
	vals := make(map[string]string, len(own)+len(defaults))
	for k, v := range defaults {
		vals[k] = v
	}
	for k, v := range own {
		vals[k] = v
	}
	return vals
}

// interpolate returns the value of key in section (whose raw values are
// vals) as configparser's BasicInterpolation gives it.
func interpolate(section, key string, vals map[string]string) (string, error) {
	var b strings.Builder
	if err := interpolateSome(&b, section, key, vals[key], vals, 1); err != nil {
		return "", err
	}
	return b.String(), nil
}

func interpolateSome(b *strings.Builder, section, key, rest string, vals map[string]string, depth int) error {
	if depth > maxInterpolationDepth {
		return &interpolationError{section, key, fmt.Sprintf("holds %%(name)s references that do not end within %d steps (a key that refers to itself)", maxInterpolationDepth)}
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			// configparser's %\(([^)]+)\)s
			end := strings.IndexByte(rest, ')')
			if end < 3 || end+1 >= len(rest) || rest[end+1] != 's' {
				return &interpolationError{section, key, "has a %( that does not start a reference %(name)s"}
			}
			name := rest[2:end]
			rest = rest[end+2:]
			v, ok := vals[name]
			if !ok {
				return &interpolationError{section, key, fmt.Sprintf("refers with %%(...)s to a key that [%s] does not have", section)}
			}
			if strings.Contains(v, "%") {
				if err := interpolateSome(b, section, key, v, vals, depth+1); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return &interpolationError{section, key, "has a % that is not followed by % or ("}
		}
	}
	return nil
}
