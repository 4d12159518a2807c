package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// stateName is the record of the last successful build in the work
// directory (WorkDir).
const stateName = "state.json"

// maxState bounds the record read.
const maxState = 64 << 20

// stateVersion changes when the record or the key changes meaning.
const stateVersion = 2

// buildState is the record of the last successful build of a project: what
// lets the next build with the same inputs skip work whose result it
// already has. It is only ever a shortcut: every use is checked against the
// files (the artifact's sha256, the binary's), and a missing, unreadable or
// foreign record (another dvp) makes a build do all its work.
type buildState struct {
	Version int `json:"version"`
	// Dvp is the Go build ID of the dvp binary that wrote the record: its
	// code (packing, checks, the code generator) is an input of every
	// result recorded here.
	Dvp string `json:"dvp"`
	// Place is the device and inode of the work directory the record was
	// written in ("" where there are none: not Linux). A record found in
	// another directory — a project from elsewhere (a clone, an archive)
	// that ships .dvp/build/state.json, which could otherwise vouch for
	// an artifact it ships too — is not this project's record.
	Place string `json:"place"`
	// The compiled plugin of that build (its Go build ID and sha256) and
	// the manifest it printed: a binary with the same sha256 prints the
	// same manifest (manifest mode only lists what main registered).
	BinaryBuildID string          `json:"binaryBuildId"`
	BinarySHA256  string          `json:"binarySha256"`
	Manifest      json.RawMessage `json:"manifest"`
	// Sources are the sources that went into the artifact.
	Sources []sourceSum `json:"sources"`
	// The artifact written: where, the key of its inputs, its sha256, and
	// the file's stamp then (nil where there is none: it is hashed).
	ArtifactPath   string     `json:"artifactPath"`
	ArtifactKey    string     `json:"artifactKey"`
	ArtifactSHA256 string     `json:"artifactSha256"`
	ArtifactStamp  *fileStamp `json:"artifactStamp,omitempty"`
	// Generated is the code generated from schema.json.
	Generated *generatedRecord `json:"generated,omitempty"`
	// Checked is what the checks of plugin_config.yml and schema.json
	// found (loadProject).
	Checked *checkRecord `json:"checked,omitempty"`
	// SDK is the stamp of every file and directory of the project's SDK
	// copy (.dvp/sdk) when the build found it to hold the SDK of this dvp:
	// while they are the same, the copy is not read again (treeStamps).
	SDK []pathStamp `json:"sdk,omitempty"`
}

// pathStamp is the stamp of one entry of a directory tree, at its slash
// path relative to the tree ("." for the tree's own directory).
type pathStamp struct {
	Path  string    `json:"path"`
	Stamp fileStamp `json:"stamp"`
}

// generatedRecord is what the code generator made of the inputs with the
// key Key (generateKey): the files (name -> sha256) and the warnings.
type generatedRecord struct {
	Key      string            `json:"key"`
	Files    map[string]string `json:"files"`
	Warnings diag.List         `json:"warnings"`
}

// fileStamp is what changes whenever a file is written (the change time
// cannot be set back by a user, unlike the modification time), as git's
// index uses it: a file with the stamp it had when dvp wrote it still has
// the bytes dvp wrote.
type fileStamp struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtimeNs"`
	CtimeNs int64  `json:"ctimeNs"`
}

// sourceSum is one source of the sourceCode ZIP: its entry name, mode and
// the sha256 of its content.
type sourceSum struct {
	Name   string      `json:"name"`
	Mode   fs.FileMode `json:"mode"`
	SHA256 string      `json:"sha256"`
}

var (
	selfIDOnce sync.Once
	selfID     string
)

// dvpIdentity is the Go build ID of the running dvp binary, "" when it has
// none (linked with -ldflags=-buildid=): then nothing is reused.
func dvpIdentity() string {
	selfIDOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		selfID, _ = readBuildID(exe)
	})
	return selfID
}

// loadState reads the record of the last build in dir; nil when there is
// none that this dvp may use.
func loadState(dir string) *buildState {
	id := dvpIdentity()
	if id == "" {
		return nil
	}
	// A record is a few KiB per source; one that is not a regular file or
	// is huge (a project from elsewhere may hold .dvp/build/state.json as
	// a link to /dev/zero) is no record.
	data, err := fsutil.ReadRegular(filepath.Join(dir, stateName), maxState)
	if err != nil {
		return nil
	}
	var st buildState
	if json.Unmarshal(data, &st) != nil || st.Version != stateVersion || st.Dvp != id || st.Place != placeOf(dir) {
		return nil
	}
	return &st
}

// placeOf is the device and inode of dir ("" without a stamp): the work
// directory of a project keeps them while it exists, and a copy of the
// project has others.
func placeOf(dir string) string {
	st := statStamp(dir)
	if st == nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// saveState records a successful build. The record is written in place,
// without fsync: only builds read it, holding the work directory's lock
// as the writer does, and a torn record (a crash) is not valid JSON, so
// the next build does all its work. Durability would cost every build
// that writes an artifact two more fsyncs for nothing.
func saveState(dir string, st *buildState) error {
	st.Version, st.Dvp, st.Place = stateVersion, dvpIdentity(), placeOf(dir)
	if st.Dvp == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stateName), append(data, '\n'), 0o644)
}

// treeStamps is the stamp of every entry under dir (dir included), in
// walk order, without following links; nil when dir cannot be read, an
// entry has no stamp (not Linux), or an entry changed at or after before
// (a change time of the file system's clock, fsClock). A file written,
// replaced, added or removed changes the stamps (its own, or its
// directory's), except a file written again within the same tick of that
// clock with the same size: a tree read at before whose entries are all
// older than before cannot change that way unseen afterwards (git's
// "racily clean" files).
func treeStamps(dir string, before int64) []pathStamp {
	var out []pathStamp
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := infoStamp(fi)
		if st == nil || st.CtimeNs >= before {
			return errNoStamp
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, pathStamp{Path: filepath.ToSlash(rel), Stamp: *st})
		return nil
	})
	if err != nil {
		return nil
	}
	return out
}

// fsClock is the file system's clock now, as it stamps change times: the
// change time of the file at path, touched now. 0 when it cannot be read.
func fsClock(path string) int64 {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		return 0
	}
	if st := statStamp(path); st != nil {
		return st.CtimeNs
	}
	return 0
}

var errNoStamp = errors.New("no stamp")

// generateKey is the key of everything the generated code is made of: the
// dvp binary (its code generator), the schema's definitions and the
// generator's options.
func generateKey(defs map[string]json.RawMessage, opts any) (string, error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "dvp codegen key %d\n%s\n%d\n%s\n", stateVersion, dvpIdentity(), len(o), o)
	for _, n := range names {
		fmt.Fprintf(h, "%q %d\n", n, len(defs[n]))
		h.Write(defs[n])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// generatedOnDisk reports whether dir holds exactly the files of sums
// (name -> sha256), regular files with that content.
func generatedOnDisk(dir string, sums map[string]string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != len(sums) {
		return false
	}
	for _, e := range entries {
		want, ok := sums[e.Name()]
		if !ok || !e.Type().IsRegular() {
			return false
		}
		if got, err := fileSHA256(filepath.Join(dir, e.Name())); err != nil || got != want {
			return false
		}
	}
	return true
}

// fileSHA256 is the hex sha256 of a file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// artifactKey is the key of everything the bytes of an artifact are made
// of: the dvp that writes it (its packing code), the artifact's fields
// (from plugin_config.yml, schema.json and the manifest: doc, its encoding
// by encodeArtifact), the build record (Go version, SDK version, dvp
// version, the binary's sha256) and each source's name, mode and content.
// Two builds with the same key write the same bytes.
func artifactKey(doc []byte, rec artifact.BuildRecord, sources []sourceSum) (string, error) {
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "dvp artifact key %d\n%s\n", stateVersion, dvpIdentity())
	for _, part := range [][]byte{doc, recJSON} {
		fmt.Fprintf(h, "%d\n", len(part))
		h.Write(part)
	}
	fmt.Fprintf(h, "%d sources\n", len(sources))
	for _, s := range sources {
		fmt.Fprintf(h, "%q %o %s\n", s.Name, s.Mode, s.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
