// Package upload is dvp's engine REST client (reference section 7): it logs
// in, uploads an artifact, follows the upload's job, and downloads a
// plugin's logs, sending the same requests in the same order as dvp's
// Python client, with the same bodies, multipart layout and cookie handling,
// so that a real Delphix Engine and dvp's local engine both accept them.
package upload

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/go-resty/resty/v2"
)

// Defaults of Options.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultReadTimeout    = 10 * time.Minute
	DefaultRetries        = 3
)

// APIPath is the path of the engine's API resources.
const APIPath = "/resources/json/"

// Options configure a Client.
type Options struct {
	// Engine is the engine's address: host, host:port, or a URL. A bare
	// host (or host:port) means HTTPS; http:// must be explicit.
	Engine string
	// CAFile is a PEM file of certificate authorities to trust besides the
	// system's.
	CAFile string
	// InsecureSkipVerify turns off TLS certificate verification.
	InsecureSkipVerify bool
	// ConnectTimeout bounds connecting (and the TLS handshake).
	ConnectTimeout time.Duration
	// ReadTimeout bounds any wait for the engine: for the response after a
	// request was sent, and between two reads or writes of a body.
	ReadTimeout time.Duration
	// Retries is how often an idempotent request (GETs, the session
	// request) is retried after a connection error or a 5xx status.
	Retries int
	// Backoff is the first pause between retries (doubled each time).
	Backoff time.Duration
	// Log receives the client's messages; nil discards them.
	Log *slog.Logger
	// Progress, when set, shows transfer progress (a terminal).
	Progress io.Writer
	// UserAgent of requests; "" gives "dvp".
	UserAgent string
}

// Client talks to one engine.
type Client struct {
	o      Options
	base   *url.URL
	r      *resty.Client
	log    *slog.Logger
	mu     sync.Mutex
	cookie string // the latest raw Set-Cookie value, replayed as is
}

// Error is a failure of a request or of a flow, with the reference's
// message (section 7.7). All of them are user errors.
type Error struct {
	Kind ErrorKind
	Msg  string
	Err  error // the underlying error, if any
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ErrorKind classifies an Error.
type ErrorKind int

// Kinds of Error (reference 7.7).
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

// ParseEngine turns an engine address into a base URL. "host",
// "host:port", "[::1]:8780" and bare IPv6 addresses mean https; a URL keeps
// its scheme, which must be http or https.
func ParseEngine(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the engine address is empty")
	}
	if !strings.Contains(s, "://") {
		host := s
		if ip := net.ParseIP(s); ip != nil && ip.To4() == nil {
			host = "[" + s + "]" // a bare IPv6 address
		}
		s = "https://" + host
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("the engine address %q is not valid: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the engine address %q has the scheme %q; use https:// (the default) or http://", s, u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the engine address %q is not valid: give host, host:port or http(s)://host[:port]", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// IsLoopback reports whether the URL's host is this machine.
func IsLoopback(u *url.URL) bool {
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// New returns a client of the engine o.Engine.
func New(o Options) (*Client, error) {
	base, err := ParseEngine(o.Engine)
	if err != nil {
		return nil, &Error{Kind: KindLocal, Msg: err.Error(), Err: err}
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.UserAgent == "" {
		o.UserAgent = "dvp"
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // explicit user choice
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, &Error{Kind: KindLocal, Msg: fmt.Sprintf("Cannot read the CA file %s: %v", o.CAFile, err), Err: err}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{Kind: KindLocal, Msg: fmt.Sprintf("The CA file %s holds no PEM certificate.", o.CAFile)}
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.ReadTimeout,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        64 << 10,
	}
	c := &Client{o: o, base: base, log: log}
	c.r = resty.New().
		SetTransport(transport).
		SetCookieJar(nil).
		SetBaseURL(base.String()+APIPath).
		SetHeader("User-Agent", o.UserAgent).
		SetResponseBodyLimit(64 << 20).
		SetLogger(restyLogger{log}).
		SetPreRequestHook(func(_ *resty.Client, req *http.Request) error {
			// A streamed body goes in here: resty would read an io.Reader
			// body into memory to make it replayable.
			if sb, ok := req.Context().Value(streamKey{}).(*streamBody); ok {
				if sb.n == 0 {
					req.Body = http.NoBody
				} else {
					req.Body = io.NopCloser(sb.r)
				}
				req.ContentLength = sb.n
				req.GetBody = nil
			}
			return nil
		})
	return c, nil
}

// BaseURL is the engine's base URL.
func (c *Client) BaseURL() *url.URL { return c.base }

type restyLogger struct{ l *slog.Logger }

func (r restyLogger) Errorf(f string, v ...any) { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }
func (r restyLogger) Warnf(f string, v ...any)  { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }
func (r restyLogger) Debugf(f string, v ...any) { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }

type streamKey struct{}

type streamBody struct {
	r io.Reader
	n int64
}

// watchdog cancels a request when neither its body nor its response made
// progress for the read timeout.
type watchdog struct {
	t      *time.Timer
	d      time.Duration
	cancel context.CancelFunc
	fired  bool
	mu     sync.Mutex
}

func newWatchdog(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watchdog{d: d, cancel: cancel}
	w.t = time.AfterFunc(d, func() {
		w.mu.Lock()
		w.fired = true
		w.mu.Unlock()
		cancel()
	})
	return ctx, w
}

func (w *watchdog) kick() { w.t.Reset(w.d) }

func (w *watchdog) stop() {
	w.t.Stop()
	w.cancel()
}

func (w *watchdog) timedOut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

// kickReader kicks a watchdog on every read.
type kickReader struct {
	r io.Reader
	w *watchdog
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.w.kick()
	}
	return n, err
}

// request is one API call.
type request struct {
	method      string
	path        string // under APIPath, may hold a query
	contentType string
	body        []byte      // a JSON body, or
	stream      *streamBody // a streamed body
	idempotent  bool        // may be retried
	raw         bool        // GET whose body the caller streams (download)
}

// response is an API answer.
type response struct {
	status int
	body   []byte
	raw    io.ReadCloser // for raw requests
	wd     *watchdog
}

func (r *response) close() {
	if r.raw != nil {
		r.raw.Close()
	}
	if r.wd != nil {
		r.wd.stop()
	}
}

func networkError(err error) *Error {
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

// do sends a request, retrying idempotent ones after connection errors and
// 5xx answers, and records the session cookie of every answer.
func (c *Client) do(ctx context.Context, q request) (*response, error) {
	backoff := c.o.Backoff
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, q)
		retryable := q.idempotent && attempt < c.o.Retries && ctx.Err() == nil &&
			(err != nil || resp.status >= 500)
		if !retryable {
			return resp, err
		}
		if resp != nil {
			resp.close()
		}
		why := "HTTP status"
		if err != nil {
			why = err.Error()
		} else {
			why = fmt.Sprintf("HTTP status %d", resp.status)
		}
		c.log.Info(fmt.Sprintf("Retrying %s %s in %s (%s).", q.method, q.path, backoff, why))
		select {
		case <-ctx.Done():
			return nil, networkError(ctx.Err())
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (c *Client) once(ctx context.Context, q request) (*response, error) {
	wctx, wd := newWatchdog(ctx, c.o.ReadTimeout)
	req := c.r.R().SetHeader("Content-Type", q.contentType).SetHeader("Accept", "*/*")
	// Every body, even an empty one, goes in through the pre-request hook,
	// so that resty neither buffers nor chunks it.
	switch {
	case q.stream != nil:
		wctx = context.WithValue(wctx, streamKey{}, &streamBody{r: &kickReader{r: q.stream.r, w: wd}, n: q.stream.n})
	case q.method == http.MethodPost:
		wctx = context.WithValue(wctx, streamKey{}, &streamBody{r: bytes.NewReader(q.body), n: int64(len(q.body))})
	}
	req.SetContext(wctx)
	c.mu.Lock()
	if c.cookie != "" {
		req.SetHeader("Cookie", c.cookie)
	}
	c.mu.Unlock()
	if q.raw {
		req.SetDoNotParseResponse(true)
	}
	c.log.Debug("request", "method", q.method, "url", c.base.String()+APIPath+q.path)
	res, err := req.Execute(q.method, q.path)
	if err != nil {
		// The transport's ResponseHeaderTimeout and the watchdog measure the
		// same wait for an answer; whichever fires first, say so.
		timedOut := wd.timedOut() || strings.Contains(err.Error(), "timeout awaiting response headers")
		wd.stop()
		if timedOut {
			err = fmt.Errorf("%w (no progress for %s)", err, c.o.ReadTimeout)
		}
		return nil, networkError(err)
	}
	raw := res.RawResponse
	if sc := raw.Header.Values("Set-Cookie"); len(sc) > 0 {
		c.mu.Lock()
		c.cookie = strings.Join(sc, ", ")
		c.mu.Unlock()
	}
	out := &response{status: res.StatusCode()}
	if q.raw {
		out.raw = &kickReadCloser{kickReader{r: raw.Body, w: wd}, raw.Body}
		out.wd = wd
		if out.status != http.StatusOK {
			out.body, _ = io.ReadAll(io.LimitReader(out.raw, 1<<20))
		}
	} else {
		wd.stop()
		out.body = res.Body()
		c.log.Debug("response", "status", out.status, "body", truncate(out.body, 4096))
	}
	return out, nil
}

type kickReadCloser struct {
	kickReader
	c io.Closer
}

func (k *kickReadCloser) Close() error { return k.c.Close() }

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// envelope is the common shape of API answers (reference 7.2).
type envelope struct {
	Type   string          `json:"type"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Job    *string         `json:"job"`
	Action *string         `json:"action"`
	Error  json.RawMessage `json:"error"`
}

// post sends a POST and applies the reference's POST handling: OKResult or
// DataResult with HTTP 200 is success, an ErrorResult is an HttpError, and
// anything else an UnexpectedError.
func (c *Client) post(ctx context.Context, q request) (*envelope, error) {
	q.method = http.MethodPost
	if q.contentType == "" {
		q.contentType = "application/json"
	}
	resp, err := c.do(ctx, q)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, unexpected(resp.status, string(resp.body))
	}
	switch {
	case resp.status == http.StatusOK && (env.Type == "OKResult" || env.Type == "DataResult"):
		return &env, nil
	case env.Type == "ErrorResult":
		return nil, httpError(resp.status, env.Error)
	default:
		return nil, unexpected(resp.status, pythonIndent2(resp.body))
	}
}

// get sends a GET: HTTP 200 returns the body as it is; anything else is an
// HttpError built from the error of the body.
func (c *Client) get(ctx context.Context, path, contentType string) (*response, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, contentType: contentType, idempotent: true, raw: contentType == "application/octet-stream"})
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		defer resp.close()
		var env envelope
		if json.Unmarshal(resp.body, &env) != nil || len(env.Error) == 0 {
			// The reference crashes here; say what came back instead.
			return nil, unexpected(resp.status, string(resp.body))
		}
		return nil, httpError(resp.status, env.Error)
	}
	return resp, nil
}

func unexpected(status int, body string) *Error {
	return &Error{Kind: KindUnexpected, Msg: fmt.Sprintf("Received an unexpected error with HTTP Status %d,\nDumping full response:\n%s", status, body)}
}

// pythonIndent2 renders JSON as Python's json.dumps(v, indent=2).
func pythonIndent2(b []byte) string {
	out, err := artifact.FormatPython(b, 2)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// httpError builds the reference's HttpError message from an ErrorResult's
// error object.
func httpError(status int, raw json.RawMessage) *Error {
	var e struct {
		Details *string `json:"details"`
		Action  *string `json:"action"`
	}
	msg := fmt.Sprintf("API request failed with HTTP Status %d\n", status)
	if json.Unmarshal(raw, &e) == nil && e.Details != nil {
		msg += "Details: " + *e.Details
	} else {
		msg += "Unable to parse details of error. Dumping full response: " + pythonIndent2(raw)
	}
	if e.Action != nil {
		msg += "\nAction: " + *e.Action
	}
	return &Error{Kind: KindHTTP, Msg: msg}
}

// pyDumps encodes v (a struct, so the field order is kept) as Python's
// json.dumps does: ", " and ": " separators, non-ASCII escaped.
func pyDumps(v any) []byte {
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
