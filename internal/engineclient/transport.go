package engineclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

type streamKey struct{}

type streamBody struct {
	r io.Reader
	n int64
}

// watchdog cancels a request when neither its body nor its response made
// progress for the read timeout.
type watchdog struct {
	t         Timer
	d         time.Duration
	afterFunc func(time.Duration, func()) Timer
	cancel    context.CancelFunc
	fired     bool
	// whole, once set (wholeWithin), cancels the request when the answer
	// has not arrived whole in time, however it trickles; late says it
	// did.
	whole Timer
	late  bool
	mu    sync.Mutex
}

func newWatchdog(ctx context.Context, d time.Duration, afterFunc func(time.Duration, func()) Timer) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watchdog{d: d, cancel: cancel, afterFunc: afterFunc}
	w.t = afterFunc(d, func() {
		w.mu.Lock()
		w.fired = true
		w.mu.Unlock()
		cancel()
	})
	return ctx, w
}

func (w *watchdog) kick() { w.t.Reset(w.d) }

// wholeWithin cancels the request unless it ends within d.
func (w *watchdog) wholeWithin(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.whole = w.afterFunc(d, func() {
		w.mu.Lock()
		w.late = true
		w.mu.Unlock()
		w.cancel()
	})
}

func (w *watchdog) tooLate() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.late
}

func (w *watchdog) stop() {
	w.t.Stop()
	w.mu.Lock()
	if w.whole != nil {
		w.whole.Stop()
	}
	w.mu.Unlock()
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
	path        string // under engineapi.APIPrefix, may hold a query
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

// do sends a request, retrying idempotent ones after connection errors and
// 5xx answers, and records the session cookie of every answer.
func (c *Client) do(ctx context.Context, q request) (*response, error) {
	backoff := c.o.Backoff
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, q)
		// Only a failure to talk to the engine, or its 5xx, is worth
		// another try; not an answer dvp refuses (a redirect, one too large).
		var e *Error
		retryable := q.idempotent && attempt < c.o.Retries && ctx.Err() == nil &&
			(errors.As(err, &e) && e.Kind == KindNetwork || err == nil && resp.status >= 500)
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
			return nil, c.networkError(ctx.Err())
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// MaxAnswerBytes bounds a JSON answer of the engine: dvp reads at most
// this much of one (downloads are streams and have no such bound).
const MaxAnswerBytes = 16 << 20

// MaxResponseHeaderBytes bounds the headers of an answer (Go's default is
// 10 MB): an engine's are a few hundred bytes, and the engine itself takes
// at most 64 KiB of a request's.
const MaxResponseHeaderBytes = 64 << 10

// once sends a request once. Every answer of the engine is read here: a
// JSON answer whole, up to MaxAnswerBytes; a download as a stream the
// caller reads. A redirect is an error that says where it pointed: dvp
// follows none, so the session cookie never goes anywhere else.
func (c *Client) once(ctx context.Context, q request) (*response, error) {
	wctx, wd := newWatchdog(ctx, c.o.ReadTimeout, c.o.AfterFunc)
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
	// Every answer is read below, never by resty, which would hold it whole.
	req.SetDoNotParseResponse(true)
	c.log.Debug("request", "method", q.method, "url", c.base.String()+engineapi.APIPrefix+q.path)
	res, err := req.Execute(q.method, q.path)
	if err != nil {
		// The transport's ResponseHeaderTimeout and the watchdog measure the
		// same wait for an answer; whichever fires first, say so.
		timedOut := wd.timedOut() || strings.Contains(err.Error(), "timeout awaiting response headers")
		wd.stop()
		if strings.Contains(err.Error(), "server response headers exceeded") {
			// net/http has no typed error for it.
			return nil, &Error{Kind: KindUnexpected, Err: err, Msg: fmt.Sprintf(
				"The engine's answer to %s %s has headers over %d bytes (64 KiB; an engine sends a few hundred): dvp stopped reading it.\nCheck that the engine address (-e, DVP_ENGINE, or engine in ~/.dvp/config) names a Delphix Engine or dvp engine serve.",
				q.method, c.base.String()+engineapi.APIPrefix+pathOnly(q.path), MaxResponseHeaderBytes)}
		}
		if timedOut {
			err = fmt.Errorf("%w (no progress for %s)", err, c.o.ReadTimeout)
		}
		return nil, c.networkError(err)
	}
	raw := res.RawResponse
	if sc := raw.Header.Values("Set-Cookie"); len(sc) > 0 {
		c.mu.Lock()
		c.cookie = strings.Join(sc, ", ")
		c.mu.Unlock()
	}
	out := &response{status: raw.StatusCode}
	if out.status >= 300 && out.status < 400 {
		raw.Body.Close()
		wd.stop()
		return nil, redirectError(q.method, c.base.String()+engineapi.APIPrefix+pathOnly(q.path), out.status, raw.Header.Get("Location"))
	}
	body := &kickReader{r: raw.Body, w: wd}
	if q.raw {
		out.raw = &kickReadCloser{*body, raw.Body}
		out.wd = wd
		if out.status != http.StatusOK {
			out.body, _ = io.ReadAll(io.LimitReader(out.raw, 1<<20))
		}
		return out, nil
	}
	defer raw.Body.Close()
	defer wd.stop()
	// A JSON answer is small: one that trickles in (a byte now and then
	// keeps the progress watchdog content) must still arrive whole within
	// the read timeout.
	wd.wholeWithin(c.o.ReadTimeout)
	out.body, err = readAnswer(body, raw.ContentLength, MaxAnswerBytes)
	switch {
	case errors.Is(err, errAnswerTooLarge):
		return nil, &Error{Kind: KindUnexpected, Err: err, Msg: fmt.Sprintf(
			"The engine's answer to %s %s (HTTP status %d) is larger than %d MiB, more than any answer of the API: dvp stopped reading it.\nCheck that the engine address (-e, DVP_ENGINE, or engine in ~/.dvp/config) names a Delphix Engine or dvp engine serve.",
			q.method, c.base.String()+engineapi.APIPrefix+pathOnly(q.path), out.status, MaxAnswerBytes>>20)}
	case err != nil && wd.tooLate():
		return nil, &Error{Kind: KindUnexpected, Err: err, Msg: fmt.Sprintf(
			"The engine's answer to %s %s (HTTP status %d) did not arrive whole within %s (--read-timeout): dvp stopped reading it. An engine sends an answer at once; check the engine and the network between.",
			q.method, c.base.String()+engineapi.APIPrefix+pathOnly(q.path), out.status, c.o.ReadTimeout)}
	case err != nil:
		if wd.timedOut() {
			err = fmt.Errorf("%w (no progress for %s)", err, c.o.ReadTimeout)
		}
		return nil, c.networkError(err)
	}
	c.log.Debug("response", "status", out.status, "body", truncate(out.body, 4096))
	return out, nil
}

var errAnswerTooLarge = errors.New("the answer is too large")

// readAnswer reads r to its end, at most max bytes, whatever the engine
// sends or claims in Content-Length: it reads in chunks and copies them
// once into the answer, so memory stays within about twice the answer.
func readAnswer(r io.Reader, contentLength, max int64) ([]byte, error) {
	if contentLength > max {
		return nil, errAnswerTooLarge
	}
	if contentLength >= 0 {
		// Trust, but check: the body may be shorter (an error) or longer.
		buf := make([]byte, contentLength+1)
		n, err := io.ReadFull(r, buf)
		switch {
		case err == nil:
			return nil, errAnswerTooLarge
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return buf[:n], nil
		default:
			return nil, err
		}
	}
	var chunks [][]byte
	var total int64
	for {
		chunk := make([]byte, 64<<10)
		n, err := io.ReadFull(r, chunk)
		total += int64(n)
		if total > max {
			return nil, errAnswerTooLarge
		}
		chunks = append(chunks, chunk[:n])
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return bytes.Join(chunks, nil), nil
}

// pathOnly drops the query of an API path (it may hold a token).
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
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
