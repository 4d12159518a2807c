package api

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// fileUploadResult answers requestUploadToken.
type fileUploadResult struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (srv *Server) handleRequestUploadToken(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
	tok, refused := srv.uploads.issue(q.session.id, "")
	if refused != nil {
		return refused
	}
	writeOK(w, fileUploadResult{Type: "FileUploadResult", URL: engineapi.APIPrefix + "delphix/data/upload", Token: tok}, nil, nil)
	return nil
}

func (srv *Server) handleToolkits(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	p, perr := pageOf(r)
	if perr != nil {
		return perr
	}
	items, total, err := srv.core.Toolkits(r.Context(), p)
	if err != nil {
		return fromCore(err)
	}
	writeList(w, items, p.Offset, total)
	return nil
}

func (srv *Server) handleToolkit(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	obj, err := srv.core.Toolkit(r.Context(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, ready(obj), nil, nil)
	return nil
}

func (srv *Server) handleToolkitDelete(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
	s, err := srv.core.DeleteToolkit(r.Context(), q.caller(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, s)
	return nil
}

func (srv *Server) handleAction(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	a, err := srv.core.Action(r.Context(), r.PathValue("ref"))
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, a, nil, nil)
	return nil
}

func (srv *Server) handleActionJob(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	since, aerr := eventsSince(r)
	if aerr != nil {
		return aerr
	}
	j, err := srv.core.ActionJob(r.Context(), r.PathValue("ref"), since)
	if err != nil {
		return fromCore(err)
	}
	writeOK(w, j, nil, nil)
	return nil
}

// ---- plugin logs ----

type bundleBody struct {
	Type       string `json:"type"`
	BundleType string `json:"bundleType"`
	Plugin     string `json:"plugin"`
}

// handleBundleGenerate makes a PLUGIN_LOG bundle (core.Engine.Bundle). Its
// result is the token that downloadOutputStream takes.
func (srv *Server) handleBundleGenerate(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	var body bundleBody
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Type != "SupportBundleGenerateParameters" {
		return apiErr(http.StatusBadRequest, "exception.webservices.json.invalid", fmt.Sprintf("The request has type %q, not \"SupportBundleGenerateParameters\".", body.Type), "Send SupportBundleGenerateParameters.")
	}
	// Each unspent download token holds its bundle on disk: the bounds
	// are checked before the bundle is made, and again as it is issued.
	if refused := srv.downloads.check(q.session.id); refused != nil {
		return refused
	}
	path, err := srv.core.Bundle(r.Context(), body.BundleType, body.Plugin)
	if err != nil {
		return fromCore(err)
	}
	token, refused := srv.downloads.issue(q.session.id, path)
	if refused != nil {
		os.Remove(path)
		return refused
	}
	writeData(w, token)
	return nil
}

// handleDownload streams a generated bundle once, then deletes it.
func (srv *Server) handleDownload(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	token := r.URL.Query().Get("token")
	path, err := srv.downloads.consume(token, q.session.id)
	if err != nil {
		return apiErr(http.StatusForbidden, "exception.download.token.invalid",
			fmt.Sprintf("The download token %q %v.", shorten(token, 40), err),
			"Run dvp download-logs again: it asks for a new bundle and downloads it at once.")
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
