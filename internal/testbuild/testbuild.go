// Package testbuild builds the Go programs tests run (the test plugins of
// testdata/plugins) once for all the test binaries of the repository: the
// executables live in a content-addressed cache, keyed by everything that
// goes into them, so the first test package to need them builds them and
// the others (and the next run) reuse them. It is imported by tests only.
package testbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/filelock"
)

// keep is how long an entry of the cache nobody used stays: a build that
// adds an entry removes those older than this.
const keep = 7 * 24 * time.Hour

// maxBytes bounds the cache (an entry of testdata/plugins is ~70 MB): a
// build that adds an entry removes the least recently used ones until the
// others fit, except those used within inUse, which a test binary that is
// still running may hold.
var maxBytes int64 = 1 << 30

const inUse = time.Hour

// Binaries returns a directory holding what
//
//	go build FLAGS -o DIR/ PKGS...
//
// run in dir with env (the process environment when nil) writes: one
// executable per main package, named after its import path's last element.
// The directory is shared: read and execute its files, never change them
// (they are read-only).
//
// The key of the cache is a SHA-256 of the go command's whole configuration
// (go env under env, the toolchain's version and GOROOT among it), the flags,
// the packages, and the content of every file of every package the build
// compiles, standard library included, with the go.mod of each module and
// the main module's go.sum, as go list -deps reports them. A change to any
// of them is a new key: a stale executable cannot be found. Entries are
// written whole (built in a temporary directory, then renamed) under an
// exclusive lock per key, so tests running at once build each key once.
func Binaries(dir string, env, flags []string, pkgs ...string) (string, error) {
	if env == nil {
		env = os.Environ()
	}
	key, err := cacheKey(dir, env, flags, pkgs)
	if err != nil {
		return "", err
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	final := filepath.Join(root, key)
	lf, err := os.OpenFile(final+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	if err := filelock.Lock(lf); err != nil {
		return "", err
	}
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		now := time.Now()
		_ = os.Chtimes(final, now, now)
		return final, nil
	}
	tmp, err := os.MkdirTemp(root, "tmp-")
	if err != nil {
		return "", err
	}
	args := append(append([]string{"build"}, flags...), "-o", tmp+string(os.PathSeparator))
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("go %v: %v\n%s", args, err, out)
	}
	entries, err := os.ReadDir(tmp)
	if err == nil {
		for _, e := range entries {
			if err = os.Chmod(filepath.Join(tmp, e.Name()), 0o555); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = os.Chmod(tmp, 0o555)
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		removeAll(tmp)
		return "", err
	}
	prune(root, key)
	return final, nil
}

// DVP returns the path of dvp (./cmd/dvp of the module at root) built for
// the suites that run the binary (internal/engine/e2e, internal/dvptest):
// go build -trimpath with flags, under the process environment, through
// Binaries, so that the suites, and the next run, share one build. The
// file is shared: run it, never change it.
func DVP(root string, flags ...string) (string, error) {
	dir, err := Binaries(root, nil, append([]string{"-trimpath"}, flags...), "./cmd/dvp")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "dvp"), nil
}

// rootOverride replaces the cache's directory in this package's tests.
var rootOverride string

// cacheRoot is the cache's directory, in the user's cache directory (the
// system's temporary directory when there is none), private to the user.
func cacheRoot() (string, error) {
	root := rootOverride
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		root = filepath.Join(base, "dvp-test-binaries")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s is writable by others: not a cache for executables", root)
	}
	return root, nil
}

// moduleInfo is what go list -deps tells of a package's module.
type moduleInfo struct {
	Path, Version, GoMod, GoVersion string
	Main                            bool
	Replace                         *struct{ Path, Version, Dir string }
}

// listed is what go list -deps tells of a package.
type listed struct {
	ImportPath                                                          string
	Dir                                                                 string
	Standard                                                            bool
	Module                                                              *moduleInfo
	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles []string
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles                      []string
	Error                                                               *struct{ Err string }
	DepsErrors                                                          []*struct{ Err string }
}

func cacheKey(dir string, env, flags, pkgs []string) (string, error) {
	trimpath := slices.Contains(flags, "-trimpath")
	h := sha256.New()
	fmt.Fprintf(h, "testbuild 1\nflags %q\npkgs %q\n", flags, pkgs)

	out, err := goOutput(dir, env, "env", "-json")
	if err != nil {
		return "", err
	}
	var goenv map[string]string
	if err := json.Unmarshal(out, &goenv); err != nil {
		return "", fmt.Errorf("go env -json: %v", err)
	}
	// The main module's path names the checkout, not the build: its files
	// are hashed below. GOGCCFLAGS names a new temporary directory on
	// every run; the C compiler and its flags are in CC and CGO_*.
	delete(goenv, "GOMOD")
	delete(goenv, "GOGCCFLAGS")
	b, _ := json.Marshal(goenv) // sorted keys
	fmt.Fprintf(h, "env %s\n", b)
	for _, name := range []string{"GOWORK"} {
		if p := goenv[name]; p != "" && p != "off" {
			if err := hashFile(h, p); err != nil {
				return "", err
			}
		}
	}

	args := append(append([]string{"list"}, flags...), "-deps",
		"-json=ImportPath,Dir,Standard,Module,GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles,Error,DepsErrors")
	out, err = goOutput(dir, env, append(args, pkgs...)...)
	if err != nil {
		return "", err
	}
	mods := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("go list: %v", err)
		}
		if p.Error != nil {
			return "", fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		if len(p.DepsErrors) > 0 {
			return "", fmt.Errorf("go list: %s: %s", p.ImportPath, p.DepsErrors[0].Err)
		}
		m, _ := json.Marshal(keyModule(p.Module, trimpath))
		fmt.Fprintf(h, "package %q standard=%v module %s\n", p.ImportPath, p.Standard, m)
		if p.Module != nil && p.Module.GoMod != "" && !mods[p.Module.GoMod] {
			mods[p.Module.GoMod] = true
			if err := hashFile(h, p.Module.GoMod); err != nil {
				return "", err
			}
			if p.Module.Main {
				sum := filepath.Join(filepath.Dir(p.Module.GoMod), "go.sum")
				if err := hashFile(h, sum); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return "", err
				}
			}
		}
		for _, files := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles, p.FFiles, p.SFiles,
			p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles} {
			names := append([]string(nil), files...)
			sort.Strings(names)
			for _, f := range names {
				if err := hashFile(h, filepath.Join(p.Dir, f)); err != nil {
					return "", err
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// keyModule is what the key holds of a package's module. With -trimpath
// the executable holds no file system path, so neither does the key: the
// go.mod file and a replacement directory are in it by their content (the
// files hashed), and a checkout elsewhere (another worktree) finds the
// same entry.
func keyModule(m *moduleInfo, trimpath bool) *moduleInfo {
	if m == nil || !trimpath {
		return m
	}
	c := *m
	c.GoMod = ""
	if c.Replace != nil {
		r := *c.Replace
		r.Dir = ""
		c.Replace = &r
	}
	return &c
}

// hashFile writes the file's name and content to h.
func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %q %d\n", filepath.Base(path), fi.Size())
	n, err := io.Copy(h, f)
	if err == nil && n != fi.Size() {
		err = fmt.Errorf("%s changed while it was read", path)
	}
	return err
}

func goOutput(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out, nil
}

// prune removes the entries (and their lock files) not used for keep,
// then the least recently used ones while the cache holds more than
// maxBytes, never key's nor one used within inUse. An entry is touched on
// every use.
func prune(root, key string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type entry struct {
		name string
		used time.Time
		size int64
	}
	var kept []entry
	var total int64
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if name != key && time.Since(fi.ModTime()) >= keep {
			remove(root, name)
			continue
		}
		if strings.HasPrefix(name, "tmp-") {
			continue // a build under way (or one that crashed: removed after keep)
		}
		size := dirSize(filepath.Join(root, name))
		total += size
		kept = append(kept, entry{name, fi.ModTime(), size})
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].used.Before(kept[j].used) })
	for _, e := range kept {
		if total <= maxBytes {
			break
		}
		if e.name == key || time.Since(e.used) < inUse {
			continue
		}
		remove(root, e.name)
		total -= e.size
	}
}

// remove removes the entry name and its lock file.
func remove(root, name string) {
	removeAll(filepath.Join(root, name))
	os.Remove(filepath.Join(root, name+".lock"))
}

// dirSize is the size of the regular files directly in dir (an entry holds
// executables only).
func dirSize(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// removeAll removes a directory made read-only.
func removeAll(dir string) {
	_ = os.Chmod(dir, 0o700)
	os.RemoveAll(dir)
}
