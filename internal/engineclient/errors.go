package engineclient

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
)

// Error is a failure of a request or of a flow, with dvp's message
// (docs/upload.md, "Wire compatibility"). All of them are user errors: the
// CLI prints Msg and exits 1.
type Error struct {
	Kind ErrorKind
	Msg  string
	Err  error // the underlying error, if any
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ErrorKind classifies an Error.
type ErrorKind int

// Kinds of Error.
const (
	KindNetwork ErrorKind = iota + 1
	KindHTTP
	KindUnexpected
	KindArtifactRead
	KindArtifactJSON
	KindInvalidArtifact
	KindMissingPlugin
	KindJobFailed
	KindWaitTimedOut
	KindLocal // a local problem (writing the logs, no password, ...)
)

// NetworkError is a failure to talk to the engine.
func NetworkError(err error) *Error {
	msg := err.Error()
	if strings.Contains(msg, "server gave HTTP response to HTTPS client") {
		msg += "\nThe engine speaks plain HTTP: give its address as http://HOST:PORT (dvp engine serve listens on http://127.0.0.1:8780 unless started with --tls-cert)."
	}
	var uerr x509.UnknownAuthorityError
	if errors.As(err, &uerr) || strings.Contains(msg, "certificate signed by unknown authority") {
		msg += "\nThe engine's certificate is not trusted: pass its CA with --ca-file (or, for a test engine only, --insecure-skip-tls-verify)."
	}
	return &Error{Kind: KindNetwork, Msg: "Encountered a http request failure.\n" + msg, Err: err}
}

// Unexpected is an answer the client cannot use, quoted whole.
func Unexpected(status int, body string) *Error {
	return &Error{Kind: KindUnexpected, Msg: fmt.Sprintf("Received an unexpected error with HTTP Status %d,\nDumping full response:\n%s", status, body)}
}

// PythonIndent2 renders JSON as Python's json.dumps(v, indent=2), as dvp
// quotes the answers it cannot use; b as it is when it is not JSON.
func PythonIndent2(b []byte) string {
	out, err := artifact.FormatPython(b, 2)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// httpError builds dvp's HttpError message from an ErrorResult's error
// object.
func httpError(status int, raw json.RawMessage) *Error {
	var e struct {
		Details *string `json:"details"`
		Action  *string `json:"action"`
	}
	msg := fmt.Sprintf("API request failed with HTTP Status %d\n", status)
	if json.Unmarshal(raw, &e) == nil && e.Details != nil {
		msg += "Details: " + *e.Details
	} else {
		msg += "Unable to parse details of error. Dumping full response: " + PythonIndent2(raw)
	}
	if e.Action != nil {
		msg += "\nAction: " + *e.Action
	}
	return &Error{Kind: KindHTTP, Msg: msg}
}

// PyDumps encodes v (a struct, so the field order is kept) as Python's
// json.dumps does: ", " and ": " separators, non-ASCII escaped. It is for
// the fixed request bodies dvp sends, and panics on a value JSON cannot
// encode.
func PyDumps(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only fixed request structs are encoded
	}
	out, err := artifact.FormatPython(buf.Bytes(), -1)
	if err != nil {
		panic(err)
	}
	return out
}
