package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/core"
)

// multipartSlack is what the multipart framing may add to the artifact.
const multipartSlack = 64 << 10

func tooLarge(limit int64) *APIError {
	return apiErr(http.StatusRequestEntityTooLarge, "exception.upload.too.large",
		fmt.Sprintf("The artifact is larger than this engine's upload limit of %d bytes.", limit),
		"Make the plugin smaller, or start the engine with a larger --max-upload-size.")
}

func malformedUpload(detail string) *APIError {
	return apiErr(http.StatusBadRequest, "exception.upload.malformed",
		"The upload is not a valid multipart/form-data request: "+detail+".",
		`Send a multipart/form-data body with a "token" part (from requestUploadToken) followed by a "file" part holding artifact.json, as dvp upload does.`)
}

// handleUpload receives an artifact: a multipart body with the token part
// and then the file part. The file is never held in memory nor stored: it
// is hashed and scanned as it arrives, its sourceCode decoded into a spool
// file in the data directory; then it is validated and installed.
func (srv *Server) handleUpload(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	start := time.Now()
	limit := srv.cfg.MaxUploadBytes
	if r.ContentLength > limit+multipartSlack {
		return tooLarge(limit)
	}
	release, aerr := srv.takeUploadRoom(r, limit)
	if aerr != nil {
		// Answered at once, the body left unread (net/http would first
		// read some of it, waiting for a client that sends slowly).
		w.Header().Set("Connection", "close")
		return aerr
	}
	defer release()
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return malformedUpload(err.Error())
	}
	part, aerr := srv.filePart(mr, q)
	if aerr != nil {
		return aerr
	}
	filename := part.FileName()
	if filename == "" {
		filename = artifact.ArtifactFileName
	}
	// One pass over the file part: it is hashed, scanned and its sourceCode
	// decoded into a spool file as it arrives; the artifact itself is
	// never stored.
	src := srv.core.NewSourceSpool()
	handedOff := false
	defer func() {
		if !handedOff {
			src.Discard()
		}
	}()
	up, aerr := srv.receiveArtifact(r, mr, part, src, limit)
	if aerr != nil {
		return aerr
	}
	up.Source, up.Filename = src, filename
	srv.cfg.Log.Debug("upload received and scanned", "file", filename, "bytes", up.Size, "took", time.Since(start).Round(time.Millisecond))
	started, handed, err := srv.core.Ingest(q.caller(), up)
	handedOff = handed
	if err != nil {
		return fromCore(err)
	}
	writeStarted(w, started)
	return nil
}

// filePart reads the upload's first part, the token, which it spends, and
// returns the second, the file.
func (srv *Server) filePart(mr *multipart.Reader, q *request) (*multipart.Part, *APIError) {
	part, err := mr.NextPart()
	if err != nil {
		return nil, malformedUpload(err.Error())
	}
	if part.FormName() != "token" {
		return nil, malformedUpload(fmt.Sprintf(`the first part is %q, not "token"`, part.FormName()))
	}
	tb, err := io.ReadAll(io.LimitReader(part, 1024))
	if err != nil {
		return nil, malformedUpload(err.Error())
	}
	token := strings.TrimSpace(string(tb))
	if _, err := srv.uploads.consume(token, q.session.id); err != nil {
		return nil, apiErr(http.StatusForbidden, "exception.upload.token.invalid",
			fmt.Sprintf("The upload token %q %v.", shorten(token, 40), err),
			"Run dvp upload again: it asks for a new token and uses it at once.")
	}
	part, err = mr.NextPart()
	if err != nil {
		return nil, malformedUpload("the file part is missing: " + err.Error())
	}
	if part.FormName() != "file" {
		return nil, malformedUpload(fmt.Sprintf(`the second part is %q, not "file"`, part.FormName()))
	}
	return part, nil
}

// receiveArtifact reads the file part to its end, hashing it and scanning
// it (artifact.Scan), its sourceCode decoded into src (the Upload's
// Source, which the caller sets), then the rest of the body. What the
// scan refuses (bad JSON, bad base64, a field too large) is a problem of
// the upload; a body too large or cut short is the answer.
func (srv *Server) receiveArtifact(r *http.Request, mr *multipart.Reader, part io.Reader, src io.Writer, limit int64) (*core.Upload, *APIError) {
	counter := &hashCounter{h: sha256.New()}
	body := io.TeeReader(io.LimitReader(part, limit+1), counter)
	var b64err, writeErr error
	fields, err := artifact.Scan(body, artifact.ScanOptions{SourceCode: func(r io.Reader) error {
		in := &errReader{r: r}
		dec := base64.NewDecoder(base64.StdEncoding, in)
		buf := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(buf)
		if _, err := io.CopyBuffer(&errWriter{w: src, err: &writeErr}, dec, *buf); err != nil {
			switch {
			case in.err != nil: // reading the request failed
				return in.err
			case writeErr != nil:
				return writeErr
			}
			b64err = err
			return errBadBase64
		}
		return nil
	}})
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || counter.n > limit {
		return nil, tooLarge(limit)
	}
	if writeErr != nil {
		return nil, internalErr(fmt.Errorf("writing the plugin's code: %w", writeErr))
	}
	var ps diag.List
	var syn *artifact.JSONSyntaxError
	var big *artifact.FieldTooLargeError
	switch {
	case err == nil:
	case errors.Is(err, errBadBase64):
		ps = append(ps, diag.Problem{Severity: diag.Error, Pointer: "/sourceCode", Message: "is not valid base64: " + b64err.Error()})
	case errors.As(err, &syn):
		ps = append(ps, diag.Problem{Severity: diag.Error, Message: fmt.Sprintf("the file is not valid JSON (at byte %d: %s)", syn.Offset, syn.Msg)})
	case errors.Is(err, artifact.ErrNotObject):
		ps = append(ps, diag.Problem{Severity: diag.Error, Message: "the file is JSON but not an object; an artifact is the JSON object dvp build writes"})
	case errors.As(err, &big):
		ps = append(ps, diag.Problem{Severity: diag.Error, Pointer: "/" + big.Key, Message: big.Problem()})
	default:
		srv.cfg.Log.Warn("upload cut short", "remote", r.RemoteAddr, "bytes", counter.n, "error", err)
		return nil, malformedUpload("the body ended early: " + err.Error())
	}
	// Read the rest of a refused file, then to the closing boundary (parts
	// after the file are ignored), so that the client reads the answer.
	if _, err := io.Copy(io.Discard, body); err != nil {
		if errors.As(err, &tooBig) {
			return nil, tooLarge(limit)
		}
		return nil, malformedUpload("the body ended early: " + err.Error())
	}
	if counter.n > limit {
		return nil, tooLarge(limit)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, malformedUpload(err.Error())
		}
		io.Copy(io.Discard, io.LimitReader(p, multipartSlack))
	}
	sum := hex.EncodeToString(counter.h.Sum(nil))
	return &core.Upload{Fields: fields, Problems: ps, SHA256: sum, Size: counter.n}, nil
}

// copyBuffers are the buffers the decoded code is copied through to its
// spool file (1 MiB: few writes for a large plugin), kept between uploads
// rather than allocated and cleared for each.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// hashCounter hashes and counts what is written to it.
type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

// errReader records the error (other than EOF) of the reader it wraps, to
// tell a failed read of the request from bad base64.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// errWriter records the error of the writer it wraps.
type errWriter struct {
	w   io.Writer
	err *error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		*e.err = err
	}
	return n, err
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

var errBadBase64 = errors.New("bad base64")
