package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// checkOutputFlag checks -o/--output in place: text or json, in any case
// (-o JSON is json, as -s staged is STAGED); anything else is a usage error
// with a "did you mean".
func checkOutputFlag(v *string) error {
	if lower := strings.ToLower(*v); lower == "text" || lower == "json" {
		*v = lower
		return nil
	}
	if s := closest(strings.ToLower(*v), []string{"text", "json"}); s != "" {
		return Usagef("Invalid value for '-o' / '--output': %q is not one of 'text', 'json'; did you mean '%s'?", *v, s)
	}
	return Usagef("Invalid value for '-o' / '--output': %q is not one of 'text', 'json'.", *v)
}

// checkExistingFile applies dvp's click.Path(exists=True, dir_okay=False)
// check to a file flag: a missing path or a directory is a usage error;
// so is a FIFO, a device or a socket, which click lets through.
func checkExistingFile(short, long, path string) error {
	// click names an option '-s' / '--long'; one without a short name, '--long'.
	name := "'" + long + "'"
	if short != "" {
		name = "'" + short + "' / " + name
	}
	if path == "" {
		// click resolves '' to the current directory, which is not a file.
		return Usagef("Invalid value for %s: File '' is a directory.", name)
	}
	st, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return Usagef("Invalid value for %s: File '%s' does not exist.", name, path)
		}
		return Usagef("Invalid value for %s: File '%s' cannot be read: %v.", name, path, err)
	}
	if st.IsDir() {
		return Usagef("Invalid value for %s: File '%s' is a directory.", name, path)
	}
	if !st.Mode().IsRegular() {
		// Reading a FIFO would wait for a writer, a device (/dev/zero)
		// never end: dvp reads only regular files (fsutil.OpenRegular).
		return Usagef("Invalid value for %s: File '%s' is %s, not a regular file; give %s %s.", name, path, fsutil.Kind(st.Mode()), shortOrLong(short, long), expectedFile(long))
	}
	return nil
}

// checkFileKind refuses a file flag's path that exists and is not a
// regular file (a directory, a FIFO, a device, a socket) as a usage error
// saying what it is and what the flag wants; a path that does not exist is
// left to the command.
func checkFileKind(long, path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Mode().IsRegular() {
		return nil
	}
	return Usagef("Invalid value for '%s': File '%s' is %s, not a regular file; give %s %s.", long, path, fsutil.Kind(st.Mode()), long, expectedFile(long))
}

// expectedFile says what the file of a file flag should be, for the
// refusal of one that is not a regular file.
func expectedFile(long string) string {
	switch long {
	case "--plugin-config":
		return "the path of the plugin's plugin_config.yml"
	case "--upload-artifact":
		return "the path of the artifact.json that dvp build wrote"
	case "--baseline":
		return "the path of the released build's artifact.json"
	case "--file":
		return "the path of a dvptest.yml file"
	case "--ssh-key":
		return "the path of a private key file"
	case "--known-hosts":
		return "the path of a known_hosts file"
	case "--tls-cert":
		return "the path of a PEM certificate file"
	case "--tls-key":
		return "the path of a PEM private key file"
	case "--admin-password-file":
		return "the path of a file whose first line is the password"
	}
	return "the path of a regular file"
}

// shortOrLong is how a message names a flag: its short form if it has one.
func shortOrLong(short, long string) string {
	if short != "" {
		return short
	}
	return long
}

// mutuallyExclusive applies dvp's MutuallyExclusiveOption: among the given
// flags, only those set on the command line count, and the error names the
// one given first, by the Python parameter name dvp prints.
func mutuallyExclusive(cmd *cobra.Command, args []string, names []string) error {
	set, first := givenTogether(cmd, args, names)
	if len(set) < 2 {
		return nil
	}
	var others []string
	for _, n := range set {
		if n != first {
			others = append(others, fmt.Sprintf("%q", pythonName(n)))
		}
	}
	return &UsageError{Msg: fmt.Sprintf("%q is mutually exclusive with argument(s) %s.", pythonName(first), strings.Join(others, ", ")), Bare: true}
}

// exclusiveFlags is mutuallyExclusive for flags dvp 5.0.1 does not have
// (--password-stdin, environment add's): the error names them as they are
// typed, not by a Python parameter name (password_stdin), first the one
// given first.
func exclusiveFlags(cmd *cobra.Command, args []string, names []string) error {
	set, first := givenTogether(cmd, args, names)
	if len(set) < 2 {
		return nil
	}
	typed := []string{flagName(cmd, first)}
	for _, n := range set {
		if n != first {
			typed = append(typed, flagName(cmd, n))
		}
	}
	return &UsageError{Msg: fmt.Sprintf("%s and %s are mutually exclusive: give one of them.", strings.Join(typed[:len(typed)-1], ", "), typed[len(typed)-1])}
}

// givenTogether is which of the flags names were set on the command line
// and, when two or more were, the one given first.
func givenTogether(cmd *cobra.Command, args []string, names []string) (set []string, first string) {
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			set = append(set, n)
		}
	}
	if len(set) < 2 {
		return set, ""
	}
	return set, firstGiven(cmd, args, set)
}

// flagName is a flag as help shows it: -s/--long, or --long.
func flagName(cmd *cobra.Command, name string) string {
	if f := cmd.Flags().Lookup(name); f != nil && f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + name
	}
	return "--" + name
}

// firstChecked reports whether click would check flag a before flag b: a
// given on the command line before b, or a given and b not (click processes
// the options given, in their order, then the others).
func firstChecked(cmd *cobra.Command, args []string, a, b string) bool {
	fa, fb := cmd.Flags().Lookup(a), cmd.Flags().Lookup(b)
	switch {
	case fa == nil || fb == nil || !fa.Changed:
		return false
	case !fb.Changed:
		return true
	}
	return firstGiven(cmd, args, []string{a, b}) == a
}

// firstGiven returns which of the set flags appears first in args. A short
// cluster is read as pflag reads it: letters name flags until one that takes
// a value, whose value is the rest of the cluster (-sstaged is -s alone).
func firstGiven(cmd *cobra.Command, args []string, set []string) string {
	in := func(f *pflag.Flag) bool { return f != nil && slices.Contains(set, f.Name) }
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return set[0]
		case strings.HasPrefix(a, "--"):
			name, _, inline := strings.Cut(a[2:], "=")
			f := cmd.Flags().Lookup(name)
			if in(f) {
				return f.Name
			}
			if f != nil && !inline && f.NoOptDefVal == "" {
				i++ // the value is the next argument
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				f := cmd.Flags().ShorthandLookup(a[j : j+1])
				if in(f) {
					return f.Name
				}
				if f != nil && f.NoOptDefVal == "" {
					if j == len(a)-1 {
						i++ // the value is the next argument
					}
					break
				}
			}
		}
	}
	return set[0]
}

// pythonName maps a flag to the parameter name dvp's messages use.
func pythonName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }
