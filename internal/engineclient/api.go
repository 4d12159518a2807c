package engineclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// post sends a POST and applies dvp's POST handling (docs/upload.md, "Wire
// compatibility"): OKResult or DataResult with HTTP 200 is success, an
// ErrorResult is an HttpError, and anything else an UnexpectedError.
func (c *Client) post(ctx context.Context, q request) (*engineapi.Envelope, error) {
	q.method = http.MethodPost
	if q.contentType == "" {
		q.contentType = "application/json"
	}
	resp, err := c.do(ctx, q)
	if err != nil {
		return nil, err
	}
	var env engineapi.Envelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, Unexpected(resp.status, string(resp.body))
	}
	switch {
	case resp.status == http.StatusOK && (env.Type == engineapi.TypeOKResult || env.Type == engineapi.TypeDataResult):
		return &env, nil
	case env.Type == engineapi.TypeErrorResult:
		return nil, httpError(resp.status, env.Error)
	default:
		return nil, Unexpected(resp.status, PythonIndent2(resp.body))
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
		var env engineapi.Envelope
		if json.Unmarshal(resp.body, &env) != nil || len(env.Error) == 0 {
			// dvp crashes here; say what came back instead.
			return nil, Unexpected(resp.status, string(resp.body))
		}
		return nil, httpError(resp.status, env.Error)
	}
	return resp, nil
}

// Post sends body, JSON as it is, to path (under engineapi.APIPrefix) and
// returns the answer's envelope; an ErrorResult or another answer is an
// *Error. A POST is never retried.
func (c *Client) Post(ctx context.Context, path string, body []byte) (*engineapi.Envelope, error) {
	return c.post(ctx, request{path: path, body: body})
}

// PostStream sends n bytes of r with the content type to path, streamed
// (never held in memory), and returns the answer's envelope as Post does.
func (c *Client) PostStream(ctx context.Context, path, contentType string, r io.Reader, n int64) (*engineapi.Envelope, error) {
	return c.post(ctx, request{path: path, contentType: contentType, stream: &streamBody{r: r, n: n}})
}

// postJSON sends v as JSON.
func (c *Client) postJSON(ctx context.Context, path string, v any) (*engineapi.Envelope, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Post(ctx, path, b)
}

// GetResult reads path and decodes the result of its OKResult, DataResult
// or ListResult into v. An answer that is not one is an *Error quoting it.
func (c *Client) GetResult(ctx context.Context, path string, v any) error {
	resp, err := c.get(ctx, path, "application/json")
	if err != nil {
		return err
	}
	defer resp.close()
	var env engineapi.Envelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return Unexpected(resp.status, string(resp.body))
	}
	if env.Type == engineapi.TypeErrorResult {
		return httpError(resp.status, env.Error)
	}
	if len(env.Result) == 0 {
		env.Result = json.RawMessage("null")
	}
	if err := json.Unmarshal(env.Result, v); err != nil {
		return Unexpected(resp.status, string(resp.body))
	}
	return nil
}

// listInfo is what a ListResult says of the whole list: how many items
// it has, and whether more follow the page.
type listInfo struct {
	Total    int  `json:"total"`
	Overflow bool `json:"overflow"`
	size     int  // the answer's bytes
}

// getList reads a ListResult at path, decoding its result into v, as
// GetResult does.
func (c *Client) getList(ctx context.Context, path string, v any) (listInfo, error) {
	resp, err := c.get(ctx, path, "application/json")
	if err != nil {
		return listInfo{}, err
	}
	defer resp.close()
	var env struct {
		engineapi.Envelope
		listInfo
	}
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return listInfo{}, Unexpected(resp.status, string(resp.body))
	}
	if env.Type == engineapi.TypeErrorResult {
		return listInfo{}, httpError(resp.status, env.Error)
	}
	if len(env.Result) == 0 {
		env.Result = json.RawMessage("null")
	}
	if err := json.Unmarshal(env.Result, v); err != nil {
		return listInfo{}, Unexpected(resp.status, string(resp.body))
	}
	env.listInfo.size = len(resp.body)
	return env.listInfo, nil
}

// Download reads path as a stream (Content-Type application/octet-stream,
// as dvp asks for downloads); the caller closes it. Reading it fails when
// the engine sends nothing for the read timeout.
func (c *Client) Download(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := c.get(ctx, path, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	return &download{resp: resp, max: c.o.MaxDownloadBytes}, nil
}

type download struct {
	resp *response
	n    int64 // bytes read
	max  int64
}

// DefaultMaxDownloadBytes bounds a download (a log bundle): an engine that
// sends without end would fill the user's disk.
const DefaultMaxDownloadBytes int64 = 4 << 30

// DownloadTooLargeError is a download longer than MaxDownloadBytes.
type DownloadTooLargeError struct{ Limit int64 }

func (e *DownloadTooLargeError) Error() string {
	return fmt.Sprintf("the engine sent more than %d bytes for the download, more than any log bundle: dvp stopped reading it", e.Limit)
}

// Read reads the download; when the engine stopped sending for the read
// timeout, the error says so (the watchdog's cancellation alone reads as
// "context canceled").
func (d *download) Read(p []byte) (int, error) {
	if d.n > d.max {
		return 0, &DownloadTooLargeError{Limit: d.max}
	}
	if rest := d.max + 1 - d.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := d.resp.raw.Read(p)
	d.n += int64(n)
	if err != nil && err != io.EOF && d.resp.wd != nil && d.resp.wd.timedOut() {
		err = &StalledError{After: d.resp.wd.d, Err: err}
	}
	return n, err
}

// StalledError is a download the engine stopped sending: nothing came for
// After (the read timeout).
type StalledError struct {
	After time.Duration
	Err   error
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("the engine sent nothing for %s (the read timeout, --read-timeout)", e.After)
}

func (e *StalledError) Unwrap() error { return e.Err }
func (d *download) Close() error {
	d.resp.close()
	return nil
}
