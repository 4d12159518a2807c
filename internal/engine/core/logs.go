package core

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// UploadLogFile is the file of a plugin's log directory that records its
// uploads, upgrades and deletions.
const UploadLogFile = "upload.log"

// BundlePluginLogDir is where a PLUGIN_LOG support bundle holds the
// plugin's logs (docs References/Logging.md), followed by the plugin name.
const BundlePluginLogDir = "log/mgmt_log/plugin_log"

// pluginLog appends a line to the plugin's upload log. Problems are only
// reported to the engine's log: logging must not fail an upload. The line
// is one append (O_APPEND) of its own, which concurrent uploads do not
// interleave: no lock, so that uploads of different plugins do not queue
// for each other's file writes.
func (e *Engine) pluginLog(pluginID, format string, args ...any) {
	if pluginID == "" {
		return
	}
	dir, err := store.PluginLogDir(e.cfg.DataDir, pluginID)
	if err != nil {
		return
	}
	line := store.FormatTime(e.cfg.Clock()) + " " + fmt.Sprintf(format, args...) + "\n"
	name := filepath.Join(dir, UploadLogFile)
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrNotExist) { // the plugin's first line
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		}
	}
	if err != nil {
		e.cfg.Log.Error("plugin log", "error", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		e.cfg.Log.Error("plugin log", "error", err)
	}
}

// Bundle makes a PLUGIN_LOG bundle of the installed plugin pluginRef: a
// tar.gz of the plugin's log directory under
// log/mgmt_log/plugin_log/<plugin name>/, in a spool file whose path it
// returns (the caller removes it).
func (e *Engine) Bundle(ctx context.Context, bundleType, pluginRef string) (string, error) {
	if bundleType != "PLUGIN_LOG" {
		return "", newErr(Invalid, "exception.support.bundle.type", fmt.Sprintf("This engine makes PLUGIN_LOG bundles only, not %q.", bundleType), `Ask for "bundleType": "PLUGIN_LOG" with the plugin's reference.`)
	}
	t, err := e.store.ToolkitByRef(ctx, pluginRef)
	if err != nil {
		return "", internalErr(err)
	}
	if t == nil {
		return "", toolkitNotFound(pluginRef)
	}
	sp, err := e.store.NewSpool("bundle")
	if err != nil {
		return "", internalErr(err)
	}
	if err := e.writeBundle(sp, t); err != nil {
		sp.Discard()
		return "", internalErr(err)
	}
	if err := sp.Close(); err != nil {
		sp.Discard()
		return "", internalErr(err)
	}
	path, err := sp.Path()
	if err != nil {
		sp.Discard()
		return "", internalErr(err)
	}
	return path, nil
}

func (e *Engine) writeBundle(w io.Writer, t *store.Toolkit) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	prefix := BundlePluginLogDir + "/" + fsutil.SafeFileName(t.Name, t.PluginID) + "/"
	dir, err := store.PluginLogDir(e.cfg.DataDir, t.PluginID)
	if err != nil {
		return err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, p := range files {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		hdr := &tar.Header{Name: prefix + filepath.ToSlash(rel), Mode: 0o644, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			f.Close()
			return err
		}
		// The file may grow while we copy: copy exactly the size announced.
		_, err = io.CopyN(tw, f, st.Size())
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
