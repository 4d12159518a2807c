package build

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// peekName is the file in WorkDir that keeps what config.Peek gave for the
// plugin_config.yml a build read last: srcDir resolved and entryPoint, the
// values go build's early start needs, under a key of the file's bytes,
// its path as given and the work directory's device and inode. Parsing
// the config (the PyYAML port: ~1 ms of CPU and ~60 page faults in a new
// process) came before go build's start in every build.
const peekName = "peek"

// peekVersion changes when what peekConfig records changes.
const peekVersion = "dvp-peek 1"

// peekConfig is config.Peek(path), from the work directory's peek file
// when it holds the values for these bytes of the file at path (only
// Path, Dir, SrcPath and EntryPoint are set then). save, when not nil,
// records the values Peek gave: the caller calls it holding the work
// directory's lock. A wrong record (a copy of a project brings its own, but
// its work directory is another) would only make go build start early in
// another directory: the compile step starts it again in srcDir.
func peekConfig(path string) (cfg *config.Config, save func()) {
	data, ps := config.ReadFile(path)
	if ps != nil {
		return nil, nil
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		cfg, _ = config.ParseUnchecked(path, data)
		return cfg, nil
	}
	work := filepath.Join(dir, filepath.FromSlash(WorkDir))
	place := placeOf(work)
	key := fmt.Sprintf("%s %x %s %q", peekVersion, sha256.Sum256(data), place, path)
	file := filepath.Join(work, peekName)
	if place != "" {
		if rec, err := fsutil.ReadRegular(file, 64<<10); err == nil {
			if l := strings.Split(string(rec), "\n"); len(l) == 5 && l[0] == key && l[1] != "" && l[3] == "end" && l[4] == "" {
				return &config.Config{Path: path, Dir: dir, SrcPath: l[1], EntryPoint: l[2]}, nil
			}
		}
	}
	cfg, _ = config.ParseUnchecked(path, data)
	if cfg == nil || cfg.SrcPath == "" || place == "" || strings.ContainsAny(cfg.SrcPath+cfg.EntryPoint, "\n") {
		return cfg, nil
	}
	rec := key + "\n" + cfg.SrcPath + "\n" + cfg.EntryPoint + "\nend\n"
	return cfg, func() { _ = os.WriteFile(file, []byte(rec), 0o644) }
}
