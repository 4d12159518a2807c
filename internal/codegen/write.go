package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// WriteDir makes dir (normally <srcDir>/generated) hold exactly files. It
// writes them into a new temporary directory beside dir, then swaps it in
// with renames, so that a failure leaves dir as it was. It touches nothing
// outside dir except that temporary directory (and, during the swap, the
// old dir renamed beside it, removed at the end). It refuses to replace a
// dir that holds anything dvp did not generate (a file that does not start
// with Header, a subdirectory, a symbolic link), and does nothing when dir
// is already up to date.
func WriteDir(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || filepath.Base(name) != name {
			return fmt.Errorf("codegen: invalid generated file name %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)

	exists := false
	info, err := os.Lstat(dir)
	switch {
	case err == nil:
		if info.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("refusing to replace %s: it is a symbolic link, not a directory dvp generated", dir)
		}
		if !info.IsDir() {
			return fmt.Errorf("refusing to replace %s: it is not a directory", dir)
		}
		if err := checkGenerated(dir); err != nil {
			return err
		}
		if stale, err := Stale(dir, files); err == nil && !stale {
			return nil
		}
		exists = true
	case errors.Is(err, fs.ErrNotExist):
	default:
		return err
	}

	parent, base := filepath.Dir(dir), filepath.Base(dir)
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return fmt.Errorf("cannot write the generated code: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after a successful swap
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, name := range names {
		if err := fsutil.WriteNewFile(filepath.Join(tmp, name), files[name], 0o644); err != nil {
			return fmt.Errorf("cannot write the generated code: %w", err)
		}
	}
	if err := fsutil.ReplaceDir(dir, tmp); err != nil {
		if !exists {
			return fmt.Errorf("cannot install the generated code in %s: %w", dir, err)
		}
		return fmt.Errorf("cannot replace %s: %w", dir, err)
	}
	return nil
}

// checkGenerated returns an error naming what in dir dvp did not generate.
func checkGenerated(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var foreign []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			foreign = append(foreign, e.Name())
			continue
		}
		ok, err := hasHeader(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if !ok {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		return fmt.Errorf("refusing to replace %s: it holds files that dvp did not generate (%s); move them out of the directory (dvp regenerates everything in it)", dir, strings.Join(foreign, ", "))
	}
	return nil
}

func hasHeader(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(Header)+2)
	n, _ := f.Read(buf)
	buf = buf[:n]
	return bytes.HasPrefix(buf, []byte(Header+"\n")) || bytes.HasPrefix(buf, []byte(Header+"\r\n")), nil
}

// Stale reports whether dir differs from files: a missing dir, a missing,
// extra or different file, or anything that is not a regular file.
func Stale(dir string, files map[string][]byte) (bool, error) {
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	case !info.IsDir():
		return true, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	if len(entries) != len(files) {
		return true, nil
	}
	for _, e := range entries {
		want, ok := files[e.Name()]
		if !ok || !e.Type().IsRegular() {
			return true, nil
		}
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return false, err
		}
		if !bytes.Equal(got, want) {
			return true, nil
		}
	}
	return false, nil
}
