package engineclient

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
	"github.com/dvpkit/dvp/internal/termsafe"
)

// Error is a failure of a request or of a flow, with dvp's message
// (docs/upload.md, "Wire compatibility"). All of them are user errors: the
// CLI prints Msg and exits 1.
type Error struct {
	Kind   ErrorKind
	Msg    string
	Err    error // the underlying error, if any
	Status int   // KindHTTP: the HTTP status of the engine's answer
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
	return &Error{Kind: KindNetwork, Msg: "The request to the engine failed.\n" + msg, Err: err}
}

// networkError is NetworkError with what to do when no engine answers at
// the client's address or its name is unknown.
func (c *Client) networkError(err error) *Error {
	e := NetworkError(err)
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Msg += fmt.Sprintf("\nNo engine answers at %s. To use the local engine, start it with 'dvp engine serve' (it listens on http://127.0.0.1:8780 unless given --listen); to use another engine, name it with -e/--engine, the DVP_ENGINE environment variable, or engine in the [default] section of ~/.dvp/config.", c.base)
	case errors.As(err, &dns) && dns.IsNotFound:
		e.Msg += fmt.Sprintf("\nThe host name %s is not known here. Check the engine address given with -e/--engine, DVP_ENGINE, or engine in ~/.dvp/config.", termsafe.String(dns.Name))
	}
	return e
}

// redirectError is an answer that points elsewhere: dvp follows no
// redirect, so that the session cookie and the password stay with the
// engine that was named.
func redirectError(method, url string, status int, location string) *Error {
	if location == "" {
		location = "(no Location given)"
	}
	return &Error{Kind: KindHTTP, Msg: fmt.Sprintf("The engine answered %s %s with a redirect (HTTP status %d) to %s.\n"+
		"dvp follows no redirect, so that the session and the password go nowhere but to the engine named. If the engine has moved, give its new address with -e/--engine, DVP_ENGINE, or engine in ~/.dvp/config.",
		method, url, status, termsafe.String(excerptLine(location, 300)))}
}

// Unexpected is an answer the client cannot use, quoted (its beginning
// only when it is long), with its control characters escaped.
func Unexpected(status int, body string) *Error {
	shown, cut := Excerpt(body)
	if cut {
		return &Error{Kind: KindUnexpected, Msg: fmt.Sprintf("Received an unexpected error with HTTP Status %d,\nDumping the beginning of the response (%d bytes in all):\n%s", status, len(body), shown)}
	}
	return &Error{Kind: KindUnexpected, Msg: fmt.Sprintf("Received an unexpected error with HTTP Status %d,\nDumping full response:\n%s", status, shown)}
}

// Limits of Excerpt.
const (
	excerptLines = 20
	excerptBytes = 2048
)

// Excerpt returns text safe to print (termsafe) and short: its first 20
// lines and 2 KiB at most, then "...". cut tells whether it was cut.
func Excerpt(s string) (shown string, cut bool) {
	lines := strings.SplitAfterN(s, "\n", excerptLines+1)
	if len(lines) > excerptLines {
		s, cut = strings.Join(lines[:excerptLines], ""), true
	}
	if len(s) > excerptBytes {
		s, cut = strings.ToValidUTF8(s[:excerptBytes], ""), true
	}
	s = termsafe.String(s)
	if cut {
		s = strings.TrimRight(s, "\n") + "\n..."
	}
	return s, cut
}

// excerptLine is s cut to n bytes.
func excerptLine(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "..."
	}
	return s
}

// PythonIndent2 renders JSON as Python's json.dumps(v, indent=2), as dvp
// quotes the answers it cannot use; b as it is when it is not JSON.
func PythonIndent2(b []byte) string {
	out, err := pyjson.Format(b, 2)
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
		msg += "Details: " + termsafe.String(*e.Details)
	} else {
		shown, _ := Excerpt(PythonIndent2(raw))
		msg += "Unable to parse details of error. Dumping full response: " + shown
	}
	if e.Action != nil {
		msg += "\nAction: " + termsafe.String(*e.Action)
	}
	return &Error{Kind: KindHTTP, Msg: msg, Status: status}
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
	out, err := pyjson.Format(buf.Bytes(), -1)
	if err != nil {
		panic(err)
	}
	return out
}
