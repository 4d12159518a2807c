// Package guard is the local engine's front door: it answers only requests
// meant for this engine and bounds what a client can make it hold.
//
//   - Host: the request's Host must be one of the engine's own names: a
//     loopback name or address, the host it listens on, or a name given
//     with --hostname. A page that rebinds its own DNS name to 127.0.0.1
//     sends its own name, and is refused.
//   - Origin: a request that carries an Origin (or Sec-Fetch-Site) saying
//     it comes from another site is refused: browsers send them, dvp and
//     scripts do not.
//   - Content type: a POST with a body must say application/json (uploads, which need
//     a logged-in session: multipart/form-data), so that a browser cannot
//     send it cross-site without asking first (a CORS preflight, which
//     this engine never grants).
//   - Bodies: a JSON body must arrive within BodyTimeout; an upload may take
//     as long as it needs but closes after UploadIdleTimeout without a byte.
//   - At most MaxUnauthenticated requests without a logged-in session run
//     at once (the others wait UnauthenticatedWait, then get 503), and the
//     listener holds at most MaxConns connections (ConnLimiter).
//
// Every refusal is the engine's ErrorResult envelope with a message that
// says why and what to do. docs/engine.md describes the rules and their
// flags.
package guard

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultBodyTimeout         = 30 * time.Second
	DefaultUploadIdleTimeout   = 60 * time.Second
	DefaultMaxUnauthenticated  = 32
	DefaultUnauthenticatedWait = 2 * time.Minute
)

// Refusal is a request the guard refuses, as the engine reports it.
type Refusal struct {
	Status     int
	ID         string // the ErrorResult's error id
	Details    string
	Action     string
	RetryAfter int // seconds; 0: no Retry-After header
}

// Config configures a Guard.
type Config struct {
	// ListenHost is the host part of the address the engine listens on.
	// An unspecified address (0.0.0.0, ::) lets any IP address through as
	// Host: a rebinding page always sends a name.
	ListenHost string
	// Hostnames are further names the engine answers to (--hostname).
	Hostnames []string
	// MultipartPaths are the paths whose POSTs carry multipart/form-data
	// (uploads); every other POST carries application/json.
	MultipartPaths []string
	// BodyTimeout bounds reading a request body other than an upload;
	// UploadIdleTimeout is the longest pause in an upload's body. 0: the
	// defaults; negative: none.
	BodyTimeout       time.Duration
	UploadIdleTimeout time.Duration
	// WriteIdleTimeout bounds each write of an answer (a client that
	// stops reading); 0: DefaultWriteIdleTimeout, negative: none.
	WriteIdleTimeout time.Duration
	// MaxUnauthenticated bounds the requests without a logged-in session
	// that run at once; the others wait up to UnauthenticatedWait for a
	// turn. 0: the defaults.
	MaxUnauthenticated  int
	UnauthenticatedWait time.Duration
	// Authenticated reports whether a request has a logged-in session; nil:
	// none has.
	Authenticated func(*http.Request) bool
	// MaxHeaderBytes bounds a request's URL and headers (--max-header-size;
	// the server reads up to ServerHeaderBytes of it); 0: no check.
	MaxHeaderBytes int
	// Refuse writes a refusal; nil: a plain ErrorResult.
	Refuse func(w http.ResponseWriter, r *http.Request, f *Refusal)
}

// Guard is the front door's middleware.
type Guard struct {
	cfg    Config
	names  []string // allowed host names, lower case, without a final dot
	anyIP  bool
	unauth chan struct{}
}

// New returns a guard.
func New(cfg Config) *Guard {
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.UploadIdleTimeout == 0 {
		cfg.UploadIdleTimeout = DefaultUploadIdleTimeout
	}
	if cfg.WriteIdleTimeout == 0 {
		cfg.WriteIdleTimeout = DefaultWriteIdleTimeout
	}
	if cfg.MaxUnauthenticated <= 0 {
		cfg.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if cfg.UnauthenticatedWait <= 0 {
		cfg.UnauthenticatedWait = DefaultUnauthenticatedWait
	}
	if cfg.Authenticated == nil {
		cfg.Authenticated = func(*http.Request) bool { return false }
	}
	if cfg.Refuse == nil {
		cfg.Refuse = writeRefusal
	}
	g := &Guard{cfg: cfg, names: []string{"localhost"}, unauth: make(chan struct{}, cfg.MaxUnauthenticated)}
	add := func(h string) {
		h = normalHost(h)
		if h == "" {
			return
		}
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				g.anyIP = true
			}
			h = ip.String()
		}
		if !slices.Contains(g.names, h) {
			g.names = append(g.names, h)
		}
	}
	add(cfg.ListenHost)
	for _, h := range cfg.Hostnames {
		add(h)
	}
	return g
}

// ValidHostname checks a --hostname value: a DNS name or an IP address,
// without a port.
func ValidHostname(h string) error {
	n := normalHost(h)
	if net.ParseIP(n) != nil {
		return nil
	}
	if n == "" || len(n) > 253 || strings.ContainsAny(n, ":/ ") {
		return fmt.Errorf("%q is not a host name (give a name such as dev.example.com or an IP address, without a port)", h)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a host name (empty or over-long label)", h)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a host name (%q is not allowed in one)", h, c)
			}
		}
	}
	return nil
}

// normalHost lowers a host name, removes IPv6 brackets and a final dot.
func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

// splitHost returns the host of a Host header value (host, host:port,
// [v6]:port, [v6]).
func splitHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return normalHost(h)
	}
	return normalHost(hostport)
}

// HostAllowed reports whether the host of a Host header value is one of
// the engine's names.
func (g *Guard) HostAllowed(hostport string) bool {
	h := splitHost(hostport)
	if h == "" {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || g.anyIP || slices.Contains(g.names, ip.String())
	}
	return slices.Contains(g.names, h)
}

// Names are the host names the guard lets through, for messages.
func (g *Guard) Names() []string {
	out := append([]string{"127.0.0.1", "::1"}, g.names...)
	if g.anyIP {
		out = append(out, "any IP address")
	}
	return slices.Compact(out)
}

// Wrap returns next behind the guard.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = g.writeDeadline(w)
		if f := g.check(r); f != nil {
			// The body is not read: close the connection after the answer
			// rather than drain what a refused client sends.
			w.Header().Set("Connection", "close")
			g.cfg.Refuse(w, r, f)
			return
		}
		g.bodyDeadline(w, r)
		if !g.cfg.Authenticated(r) {
			release, f := g.turn(r.Context())
			if f != nil {
				g.cfg.Refuse(w, r, f)
				return
			}
			defer release()
		}
		next.ServeHTTP(w, r)
	})
}

// check applies the header size, Host, Origin and content type rules.
func (g *Guard) check(r *http.Request) *Refusal {
	if f := g.checkHeaderSize(r); f != nil {
		return f
	}
	if !g.HostAllowed(r.Host) {
		shown := r.Host
		if shown == "" {
			shown = "(none)"
		}
		return &Refusal{Status: http.StatusForbidden, ID: "exception.webservices.host.refused",
			Details: fmt.Sprintf("The request was sent to the host %q, which is not a name of this engine (it answers to %s). A web page that makes its own name point at this machine (DNS rebinding) is refused this way.", shown, strings.Join(g.Names(), ", ")),
			Action:  "Use the engine's own address (dvp engine serve prints it). If the engine is reached by another name, start it with --hostname NAME."}
	}
	if o := r.Header.Get("Origin"); o != "" && !g.sameOrigin(o, r) {
		return &Refusal{Status: http.StatusForbidden, ID: "exception.webservices.origin.refused",
			Details: fmt.Sprintf("The request comes from the web page origin %q, not from this engine: the engine does not answer requests that web pages send to it.", o),
			Action:  "Talk to the engine with dvp (dvp upload, dvp environment list, ...) or another client that is not a browser."}
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return &Refusal{Status: http.StatusForbidden, ID: "exception.webservices.origin.refused",
			Details: fmt.Sprintf("The browser says this request comes from another site (Sec-Fetch-Site: %s): the engine does not answer requests that web pages send to it.", s),
			Action:  "Talk to the engine with dvp or another client that is not a browser."}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	want := "application/json"
	if slices.Contains(g.cfg.MultipartPaths, r.URL.Path) {
		if !g.cfg.Authenticated(r) {
			return nil // the API refuses it (401) before reading it
		}
		want = "multipart/form-data"
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return nil // an empty body says nothing (logout, requestUploadToken)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		shown := fmt.Sprintf("%q", ct)
		if ct == "" {
			shown = "no content type"
		}
		return &Refusal{Status: http.StatusUnsupportedMediaType, ID: "exception.webservices.unsupported.media.type",
			Details: fmt.Sprintf("The %s request to %s has %s; this resource takes %s.", r.Method, r.URL.Path, shown, want),
			Action:  fmt.Sprintf("Send the header Content-Type: %s (dvp does).", want)}
	}
	return nil
}

// sameOrigin reports whether an Origin header names this engine as the
// request reached it: same scheme, same host and port, an allowed host.
func (g *Guard) sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && g.HostAllowed(u.Host) && hostPort(u.Host, scheme) == hostPort(r.Host, scheme)
}

// hostPort normalizes host[:port] with the scheme's default port.
func hostPort(hp, scheme string) string {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		h, p = hp, map[string]string{"http": "80", "https": "443"}[scheme]
	}
	h = normalHost(h)
	if ip := net.ParseIP(h); ip != nil {
		h = ip.String()
	}
	return net.JoinHostPort(h, p)
}

// turn waits for one of the places of requests without a session.
func (g *Guard) turn(ctx context.Context) (func(), *Refusal) {
	select {
	case g.unauth <- struct{}{}:
		return func() { <-g.unauth }, nil
	default:
	}
	t := time.NewTimer(g.cfg.UnauthenticatedWait)
	defer t.Stop()
	select {
	case g.unauth <- struct{}{}:
		return func() { <-g.unauth }, nil
	case <-ctx.Done():
	case <-t.C:
	}
	return nil, &Refusal{Status: http.StatusServiceUnavailable, ID: "exception.webservices.busy", RetryAfter: 1,
		Details: fmt.Sprintf("The engine is already answering %d requests without a logged-in session.", g.cfg.MaxUnauthenticated),
		Action:  "Try again in a moment; if many clients log in at once, start the engine with a larger --max-unauthenticated."}
}

// bodyDeadline bounds the time a request body may take: a whole JSON body
// within BodyTimeout; an upload without a pause longer than
// UploadIdleTimeout.
func (g *Guard) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	if slices.Contains(g.cfg.MultipartPaths, r.URL.Path) {
		if g.cfg.UploadIdleTimeout < 0 {
			return
		}
		if rc.SetReadDeadline(time.Now().Add(g.cfg.UploadIdleTimeout)) == nil {
			r.Body = &slidingBody{ReadCloser: r.Body, rc: rc, idle: g.cfg.UploadIdleTimeout}
		}
		return
	}
	if g.cfg.BodyTimeout > 0 {
		rc.SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout))
	}
}

// slidingBody moves the read deadline on after every read that made
// progress.
type slidingBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *slidingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	return n, err
}
