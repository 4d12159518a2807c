package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// checkOutputFlag validates --output.
func checkOutputFlag(v string) error {
	if v != "text" && v != "json" {
		return Usagef("Invalid value for '-o' / '--output': %q is not one of 'text', 'json'.", v)
	}
	return nil
}

// checkExistingFile applies dvp's click.Path(exists=True, dir_okay=False)
// check to a file flag: a missing path or a directory is a usage error.
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
	return nil
}

// mutuallyExclusive applies dvp's MutuallyExclusiveOption: among the given
// flags, only those set on the command line count, and the error names the
// one given first, by the Python parameter name dvp prints.
func mutuallyExclusive(cmd *cobra.Command, args []string, names []string) error {
	var set []string
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			set = append(set, n)
		}
	}
	if len(set) < 2 {
		return nil
	}
	first := firstGiven(cmd, args, set)
	var others []string
	for _, n := range set {
		if n != first {
			others = append(others, fmt.Sprintf("%q", pythonName(n)))
		}
	}
	return &UsageError{Msg: fmt.Sprintf("%q is mutually exclusive with argument(s) %s.", pythonName(first), strings.Join(others, ", ")), Bare: true}
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
