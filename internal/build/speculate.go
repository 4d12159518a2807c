package build

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/zipfile"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// specWrite is the artifact written ahead: after an edit, the new binary
// usually registers what the last one did, so while the plugin runs in
// manifest mode the artifact is streamed into its temporary file, and
// synced, with the manifest the last build recorded. The write step then
// compares the key of what it would write (artifactKey) with the key of
// what was written ahead: the same key is the same bytes, and the file is
// renamed into place; else it is removed and the artifact written as
// usual. Nothing replaces the artifact before the write step decides.
type specWrite struct {
	keyReady chan struct{} // key is set (or the speculation failed: "")
	key      string
	decide   chan bool // true: put the file in place; false: remove it
	done     chan struct{}
	sum      string
	err      error
}

var errAbandoned = errors.New("the artifact written ahead is not this build's")

// speculate starts the write ahead, when the last build recorded a
// manifest and the sources are packed already (they changed: an edit).
func (b *pipeline) speculate() {
	st := b.state
	if st == nil || b.sources.packed == nil || b.packing == nil {
		return
	}
	var rm protocol.Manifest
	if json.Unmarshal(st.Manifest, &rm) != nil {
		return
	}
	cfg := b.p.Config
	m, ps := checkManifest(&rm, strings.ToUpper(cfg.PluginType), b.entry)
	if ps.HasErrors() {
		return
	}
	a, aps := newArtifact(cfg, b.p.Schema, m)
	if aps.HasErrors() {
		return
	}
	pre := make(map[string]*zipfile.PackedFile, len(b.sources.packed)+1)
	for name, p := range b.sources.packed {
		pre[name] = p
	}
	sw := &specWrite{keyReady: make(chan struct{}), decide: make(chan bool, 1), done: make(chan struct{})}
	b.spec = sw
	files, sums, packing := b.sources.files, b.sources.sums, b.packing
	goVersion, dvpVersion, path, workDir := b.res.GoVersion, b.opts.DvpVersion, b.artifactPath, b.workDir
	go func() {
		defer close(sw.done)
		ready := func() {
			select {
			case <-sw.keyReady:
			default:
				close(sw.keyReady)
			}
		}
		defer ready()
		doc, err := encodeArtifact(a) // while the binary is hashed
		if err != nil {
			sw.err = err
			return
		}
		bin, err := packing.wait()
		if err != nil {
			sw.err = err
			return
		}
		rec := artifact.BuildRecord{GoVersion: goVersion, Target: artifact.BinaryTarget, SDKVersion: sdkVersion(&rm),
			DvpVersion: dvpVersion, BinarySHA256: bin.SHA256()}
		key, err := artifactKey(doc, rec, sums)
		if err != nil {
			sw.err = err
			return
		}
		entries, err := zipEntries(rec, files, pre)
		if err != nil {
			sw.err = err
			return
		}
		pre[artifact.BinaryEntry] = bin
		sw.key = key
		ready()
		sw.sum, sw.err = writeArtifact(path, workDir, doc, entries, pre, func() error {
			if <-sw.decide {
				return nil
			}
			return errAbandoned
		})
	}()
}

// finishSpeculation decides the write ahead, if there is one: kept when
// its key is this build's (b.wroteAhead, and its sha256), else removed.
// A write ahead that failed is not kept: the artifact is then written as
// usual, which reports its own error.
func (b *pipeline) finishSpeculation() (string, error) {
	sw := b.spec
	if sw == nil {
		return "", nil
	}
	b.spec = nil
	<-sw.keyReady
	keep := sw.key != "" && sw.key == b.key
	sw.decide <- keep
	<-sw.done
	if keep && sw.err == nil {
		b.wroteAhead = true
		b.log.Debug("artifact written ahead", "path", b.artifactPath)
		return sw.sum, nil
	}
	b.log.Debug("artifact written ahead abandoned", "path", b.artifactPath)
	return "", nil
}

// abandonSpeculation removes the write ahead, if any (the build failed,
// or the artifact is up to date).
func (b *pipeline) abandonSpeculation() {
	if sw := b.spec; sw != nil {
		b.spec = nil
		sw.decide <- false
		<-sw.done
	}
}
