// Package engineclient is dvp's typed client of the engine REST API
// (internal/engineapi is the contract): it logs in, sends requests, turns
// the answers' envelopes into results or errors, lists the engine's objects
// and follows jobs. It sends the requests as dvp's Python client does, with
// the same bodies and cookie handling, so that a Delphix Engine and dvp's
// local engine both accept them (docs/upload.md).
//
// What comes from the engine passes a few places, where rules about it
// belong: once (transport.go) reads every response body; post and GetResult
// (api.go) decode every answer; the errors of errors.go put the engine's
// texts into the messages the CLI shows. Typed values carry the rest to the
// CLI, which prints them in internal/cli/objects.go (printJob, printList),
// and to the upload flows (internal/upload).
package engineclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/go-resty/resty/v2"
)

// Defaults of Options.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultReadTimeout    = 10 * time.Minute
	DefaultRetries        = 3
)

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
	// UserAgent of requests; "" gives "dvp".
	UserAgent string
	// MaxDownloadBytes bounds a download; 0: DefaultMaxDownloadBytes.
	MaxDownloadBytes int64
	// AfterFunc starts the read timeout's timers (the wait without
	// progress, an answer's whole arrival); nil: time.AfterFunc. Tests
	// give a clock of their own, which moves only when they say, so that
	// a busy machine cannot make a transfer that progresses look stalled.
	// The transport's bound on the wait for an answer's headers
	// (ReadTimeout too) is on the real clock always.
	AfterFunc func(d time.Duration, f func()) Timer
}

// Timer is one of the read timeout's timers, as *time.Timer is.
type Timer interface {
	Reset(d time.Duration) bool
	Stop() bool
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
		return nil, fmt.Errorf("the engine address %q is not valid: %v; give host, host:port or http(s)://host[:port]", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the engine address %q has the scheme %q; use https:// (the default) or http://", s, u.Scheme)
	}
	if u.User != nil {
		// Never the password it holds: the message is printed and logged.
		return nil, fmt.Errorf("the engine address %q holds a user name or password: give http(s)://host[:port], the user with -u and the password with --password-stdin, DVP_PASSWORD or the prompt", u.Redacted())
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the engine address %q is not valid: give host, host:port or http(s)://host[:port]", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("the engine address %q has the port %s: a port is a number from 1 to 65535", s, p)
		}
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
	if o.MaxDownloadBytes <= 0 {
		o.MaxDownloadBytes = DefaultMaxDownloadBytes
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
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // explicit user choice
	if o.CAFile != "" {
		pem, err := fsutil.ReadRegular(o.CAFile, maxCAFile)
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
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.ReadTimeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		MaxIdleConns:           4,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		WriteBufferSize:        256 << 10,
		ReadBufferSize:         64 << 10,
	}
	c := &Client{o: o, base: base, log: log}
	c.r = resty.New().
		SetTransport(transport).
		SetCookieJar(nil).
		SetBaseURL(base.String()+engineapi.APIPrefix).
		SetHeader("User-Agent", o.UserAgent).
		// An answer pointing elsewhere is returned, never followed
		// (transport.go turns it into an error).
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })).
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

// Logger is where the client and the flows built on it log.
func (c *Client) Logger() *slog.Logger { return c.log }

type restyLogger struct{ l *slog.Logger }

func (r restyLogger) Errorf(f string, v ...any) { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }
func (r restyLogger) Warnf(f string, v ...any)  { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }
func (r restyLogger) Debugf(f string, v ...any) { r.l.Debug("resty: " + fmt.Sprintf(f, v...)) }

// maxCAFile bounds the --ca-file read (a bundle of every public authority
// is about 200 KiB); a device or FIFO is refused (fsutil.ReadRegular).
const maxCAFile = 16 << 20
