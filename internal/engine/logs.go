package engine

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// UploadLogFile is the file of a plugin's log directory that records its
// uploads, upgrades and deletions.
const UploadLogFile = "upload.log"

// BundlePluginLogDir is where a PLUGIN_LOG support bundle holds the
// plugin's logs (docs References/Logging.md), followed by the plugin name.
const BundlePluginLogDir = "log/mgmt_log/plugin_log"

var pluginLogMu sync.Mutex

// pluginLog appends a line to the plugin's upload log. Problems are only
// reported to the engine's log: logging must not fail an upload.
func (e *Engine) pluginLog(pluginID, format string, args ...any) {
	if pluginID == "" {
		return
	}
	dir, err := store.PluginLogDir(e.cfg.DataDir, pluginID)
	if err != nil {
		return
	}
	line := store.FormatTime(e.cfg.Clock()) + " " + fmt.Sprintf(format, args...) + "\n"
	pluginLogMu.Lock()
	defer pluginLogMu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.cfg.Log.Error("plugin log", "error", err)
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, UploadLogFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		e.cfg.Log.Error("plugin log", "error", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		e.cfg.Log.Error("plugin log", "error", err)
	}
}

type bundleBody struct {
	Type       string `json:"type"`
	BundleType string `json:"bundleType"`
	Plugin     string `json:"plugin"`
}

// handleBundleGenerate makes a PLUGIN_LOG bundle: a tar.gz of the plugin's
// log directory under log/mgmt_log/plugin_log/<plugin name>/. Its result is
// the token that downloadOutputStream takes.
func (e *Engine) handleBundleGenerate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var body bundleBody
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Type != "SupportBundleGenerateParameters" {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", fmt.Sprintf("The request has type %q, not \"SupportBundleGenerateParameters\".", body.Type), "Send SupportBundleGenerateParameters.")
	}
	if body.BundleType != "PLUGIN_LOG" {
		return apiErr(http.StatusBadRequest, "exception.support.bundle.type", fmt.Sprintf("This engine makes PLUGIN_LOG bundles only, not %q.", body.BundleType), `Ask for "bundleType": "PLUGIN_LOG" with the plugin's reference.`)
	}
	t, err := e.store.ToolkitByRef(r.Context(), body.Plugin)
	if err != nil {
		return internalErr(err)
	}
	if t == nil {
		return toolkitNotFound(body.Plugin)
	}
	sp, err := e.store.NewSpool("bundle")
	if err != nil {
		return internalErr(err)
	}
	if err := e.writeBundle(sp, t); err != nil {
		sp.Discard()
		return internalErr(err)
	}
	if err := sp.Close(); err != nil {
		sp.Discard()
		return internalErr(err)
	}
	token := e.downloads.issue(q.session.id, sp.Name())
	writeData(w, token)
	return nil
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

// handleDownload streams a generated bundle once, then deletes it.
func (e *Engine) handleDownload(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	token := r.URL.Query().Get("token")
	path, err := e.downloads.consume(token, q.session.id)
	if err != nil {
		return apiErr(http.StatusForbidden, "exception.download.token.invalid",
			fmt.Sprintf("The download token %q %v.", shorten(token, 40), err),
			"Generate the bundle again with POST "+APIPrefix+"delphix/service/support/bundle/generate.")
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return internalErr(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return internalErr(err)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(st.Size()))
	w.Header().Set("Content-Disposition", `attachment; filename="dlpx-plugin-logs.tar.gz"`)
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
	return nil
}
