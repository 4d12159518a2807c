// Package sdkcopy materialises the plugin SDK that this dvp binary embeds
// into a plugin project, as a module of its own, so that the project builds
// offline (no proxy, no module cache) against exactly this SDK.
//
// The SDK is the module github.com/dvpkit/dvp/sdk (sdk/ in the dvp
// repository), which embeds its own files (sdk.Source). The copy lives at
// <root>/.dvp/sdk: the files of that module byte for byte (its go.mod and
// Go files; tests and test data left out), and a VERSION file with the SDK
// version and the hash of the copy. The plugin's
// go.mod (in srcDir) requires github.com/dvpkit/dvp/sdk at Version and
// replaces it with ../.dvp/sdk. See docs/plugin-project.md.
package sdkcopy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/sdk"
)

const (
	// ModulePath is the module path of the SDK copy.
	ModulePath = "github.com/dvpkit/dvp/sdk"
	// Version is the version plugin go.mod files require; the replace
	// directive makes it a name only. It is a valid semantic version that
	// no published release of the module uses.
	Version = "v0.0.0-dvp"
	// Dir is where the copy lives, relative to the project root.
	Dir = ".dvp/sdk"
	// VersionFile names the file of the copy that records its version and
	// hash; it is not part of the hash.
	VersionFile = "VERSION"
)

// File is one file of the SDK copy.
type File struct {
	Path string // slash-separated, relative to the copy's root
	Data []byte
}

var (
	once  sync.Once
	files []File
	hash  string
	ferr  error
)

// Files returns the files of the SDK copy (sorted by path, VERSION last
// excluded), and their hash.
func Files() ([]File, string, error) {
	once.Do(func() { files, hash, ferr = load() })
	return files, hash, ferr
}

// GoVersion is the go directive of the SDK module's go.mod: the Go version
// the SDK is written for, which plugin projects declare too.
func GoVersion() string {
	gomod, _ := fs.ReadFile(sdk.Source, "go.mod")
	for _, line := range strings.Split(string(gomod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "1.24"
}

func load() ([]File, string, error) {
	var out []File
	err := fs.WalkDir(sdk.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := fs.ReadFile(sdk.Source, p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading the embedded SDK: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, hashFiles(out), nil
}

// hashFiles hashes paths and contents, in order.
func hashFiles(fs []File) string {
	h := sha256.New()
	for _, f := range fs {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func versionFile(hash string) []byte {
	return []byte(fmt.Sprintf("dvp Go plugin SDK %s\nsha256 %s\n", sdk.Version, hash))
}

// WriteTo writes the SDK copy into dir, which must not exist.
func WriteTo(dir string) error {
	fs, h, err := Files()
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	// fs is shared by every caller: a full slice expression makes append
	// copy it instead of writing into its spare capacity (two builds in
	// one process raced there).
	for _, f := range append(fs[:len(fs):len(fs)], File{Path: VersionFile, Data: versionFile(h)}) {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// UpToDate reports whether dir holds exactly the embedded SDK (same files,
// same contents, nothing else).
func UpToDate(dir string) (bool, error) {
	want, h, err := Files()
	if err != nil {
		return false, err
	}
	var got []File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			got = append(got, File{Path: rel}) // a link or device: never equal
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got = append(got, File{Path: rel, Data: data})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	var rest []File
	var version []byte
	for _, f := range got {
		if f.Path == VersionFile {
			version = f.Data
			continue
		}
		rest = append(rest, f)
	}
	return len(rest) == len(want) && hashFiles(rest) == h && bytes.Equal(version, versionFile(h)), nil
}

// SyncSDK makes <root>/.dvp/sdk hold exactly the SDK embedded in this dvp
// binary: when it is missing or differs (another SDK version, or edited
// files), it is replaced atomically — the new copy is written beside it,
// then renamed into place; if that fails the old copy is put back. It
// reports whether it changed anything. dvp build calls it before compiling.
func SyncSDK(root string) (changed bool, err error) {
	dir := filepath.Join(root, filepath.FromSlash(Dir))
	ok, err := UpToDate(dir)
	if err != nil {
		return false, fmt.Errorf("checking the SDK copy %s: %w", dir, err)
	}
	if ok {
		return false, nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(parent, ".sdk.new-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	staged := filepath.Join(tmp, "sdk")
	if err := WriteTo(staged); err != nil {
		return false, fmt.Errorf("writing the SDK copy: %w", err)
	}
	if err := fsutil.ReplaceDir(dir, staged); err != nil {
		return false, fmt.Errorf("replacing the SDK copy %s: %w", dir, err)
	}
	return true, nil
}

// GoModDirectives are the require and replace directives a plugin's go.mod
// needs, relSDK being the path of the copy relative to the go.mod's
// directory ("../.dvp/sdk" for srcDir src).
func GoModDirectives(relSDK string) string {
	return fmt.Sprintf("require %s %s\n\nreplace %s => %s\n", ModulePath, Version, ModulePath, path.Clean(relSDK))
}

// ReplacePath is the path a plugin's go.mod in srcDir must give as the
// target of its replace directive to reach the copy of the project at root
// ("../.dvp/sdk" for srcDir <root>/src), slash-separated.
func ReplacePath(root, srcDir string) (string, error) {
	rel, err := filepath.Rel(srcDir, filepath.Join(root, filepath.FromSlash(Dir)))
	if err != nil {
		return "", err
	}
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "../") && !strings.HasPrefix(rel, "./") {
		rel = "./" + rel
	}
	return rel, nil
}
