// Package upload ships artifacts to an engine and brings plugin logs back:
// the dvp upload and dvp download-logs flows, on the engine client of
// internal/engineclient, sending the same requests in the same order as
// dvp's Python client, with the same bodies and multipart layout
// (docs/upload.md).
package upload

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// The multipart boundary of dvp's upload (docs/upload.md, "Wire
// compatibility"): 10 dashes, "boundary", 6 dashes.
const Boundary = "----------boundary------"

type bundleRequest struct {
	Type       string `json:"type"`
	BundleType string `json:"bundleType"`
	Plugin     string `json:"plugin"`
}

// Client runs the upload and download-logs flows on an engine client.
type Client struct {
	Engine *engineclient.Client
	// Progress, when set, shows transfer progress (a terminal).
	Progress io.Writer
}

func (c *Client) log() *slog.Logger { return c.Engine.Logger() }

// RequestUploadToken asks for an upload token.
func (c *Client) RequestUploadToken(ctx context.Context) (string, error) {
	env, err := c.Engine.Post(ctx, engineapi.PathRequestUploadToken, nil)
	if err != nil {
		return "", err
	}
	var res struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(env.Result, &res) != nil || res.Token == "" {
		return "", engineclient.Unexpected(200, engineclient.PythonIndent2(env.Result))
	}
	return res.Token, nil
}

// UploadResult is the answer to an upload: the action, and the job when the
// upload upgrades an installed plugin.
type UploadResult struct {
	Action string
	Job    string
}

// MultipartParts returns the bytes that go before and after the artifact in
// the upload body, laid out exactly as dvp's client does.
func MultipartParts(token, filename string) (head, tail []byte) {
	head = []byte("--" + Boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"token\"\r\n" +
		"\r\n" +
		token + "\r\n" +
		"--" + Boundary + "\r\n" +
		"Content-Disposition:form-data; name=\"file\"; filename=\"" + filename + "\"\r\n" +
		"Content-Type: application/octet-stream\r\n" +
		"\r\n")
	tail = []byte("\r\n--" + Boundary + "--\r\n")
	return head, tail
}

// UploadArtifact sends the file at path as it is (never re-encoded, never
// held in memory) in dvp's multipart layout.
func (c *Client) UploadArtifact(ctx context.Context, token, path string) (*UploadResult, error) {
	f, st, err := fsutil.OpenRegular(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	head, tail := MultipartParts(token, filepath.Base(path))
	var file io.Reader = f
	if c.Progress != nil {
		p := newProgress(c.Progress, "Uploading "+filepath.Base(path), st.Size())
		defer p.done()
		file = p.reader(f)
	}
	body := io.MultiReader(bytesReader(head), file, bytesReader(tail))
	n := int64(len(head)) + st.Size() + int64(len(tail))
	env, err := c.Engine.PostStream(ctx, engineapi.PathUpload, "multipart/form-data; boundary="+Boundary, body, n)
	if err != nil {
		return nil, err
	}
	res := &UploadResult{}
	if env.Action != nil {
		res.Action = *env.Action
	}
	if env.Job != nil {
		res.Job = *env.Job
	}
	return res, nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// readError is dvp's read failure: the errno's symbolic name.
func readError(path string, err error) *engineclient.Error {
	var errno syscall.Errno
	var nr *fsutil.NotRegularError
	code, name := 0, err.Error()
	switch {
	case errors.As(err, &errno):
		code, name = int(errno), errnoName(errno)
	case errors.As(err, &nr):
		// A FIFO would wait for a writer, a device (/dev/zero) never end.
		name = fmt.Sprintf("it is %s, not a regular file; give -a the artifact.json that dvp build wrote", nr.What)
	}
	return &engineclient.Error{Kind: engineclient.KindArtifactRead, Msg: fmt.Sprintf("Unable to read upload artifact file '%s'\nError code: %d. Error message: %s", path, code, name), Err: err}
}

// dvp's messages about a bad artifact (docs/upload.md, "dvp upload").
const (
	InvalidJSONMessage     = "Upload failed because the upload artifact was not a valid json file. Build it with 'dvp build'."
	InvalidEngineAPIMessge = "The engineApi field is either missing or malformed. The field must be of the form:\n" +
		"{\n  \"type\": \"APIVersion\",\n  \"major\": 1,\n  \"minor\": 7,\n  \"micro\": 0\n}\n" +
		"Build the artifact with 'dvp build'."
)

// CheckArtifact reads the artifact file once, with a streaming decoder
// (memory does not grow with its size), and checks what dvp checks before
// uploading: that it is JSON and that engineApi is an APIVersion. It
// returns the engine API version to log in with.
func CheckArtifact(path string) (artifact.APIVersion, error) {
	f, _, err := fsutil.OpenRegular(path)
	if err != nil {
		return artifact.APIVersion{}, readError(path, err)
	}
	defer f.Close()
	fields, err := artifact.Scan(bufio.NewReaderSize(f, 1<<20), artifact.ScanOptions{})
	var syn *artifact.JSONSyntaxError
	var pe *fs.PathError
	switch {
	case err == nil:
	case errors.Is(err, artifact.ErrNotObject):
		return artifact.APIVersion{}, &engineclient.Error{Kind: engineclient.KindInvalidArtifact, Msg: InvalidEngineAPIMessge}
	case errors.As(err, &syn):
		return artifact.APIVersion{}, &engineclient.Error{Kind: engineclient.KindArtifactJSON, Msg: InvalidJSONMessage, Err: err}
	case errors.As(err, &pe):
		return artifact.APIVersion{}, readError(path, err)
	default:
		var tl *artifact.FieldTooLargeError
		if errors.As(err, &tl) {
			return artifact.APIVersion{}, &engineclient.Error{Kind: engineclient.KindArtifactJSON, Msg: InvalidJSONMessage + "\n(" + tl.Error() + ")", Err: err}
		}
		return artifact.APIVersion{}, readError(path, err)
	}
	v, ok := artifact.CheckEngineAPI(fields.Values[artifact.EngineAPIField])
	if !ok {
		return artifact.APIVersion{}, &engineclient.Error{Kind: engineclient.KindInvalidArtifact, Msg: InvalidEngineAPIMessge}
	}
	return v, nil
}

// WaitOptions tune Wait.
type WaitOptions struct {
	Timeout  time.Duration // overall; 0: one hour, as in dvp
	First    time.Duration // first polling interval; 0: 250 ms
	Max      time.Duration // longest interval; 0: 5 s
	Factor   float64       // growth of the interval; 0: 1.6
	Progress func(state string, percent float64)
	// Paused, when set, is told each pause before a poll (tests check the
	// polling schedule with it instead of timing the wait).
	Paused func(d time.Duration)
}

// Wait polls the upload's job (or action) until it ends (docs/upload.md),
// logging each new job event as dvp does. name is the artifact file's base
// name, as in dvp's messages.
func (c *Client) Wait(ctx context.Context, name string, res *UploadResult, o WaitOptions) error {
	if o.Timeout <= 0 {
		o.Timeout = time.Hour
	}
	if o.First <= 0 {
		o.First = 250 * time.Millisecond
	}
	if o.Max <= 0 {
		o.Max = 5 * time.Second
	}
	if o.Factor <= 1 {
		o.Factor = 1.6
	}
	if res.Action == "" {
		return engineclient.Unexpected(200, "the upload answer has no action to wait for")
	}
	deadline := time.Now().Add(o.Timeout)
	interval := o.First
	seen := &seenEvents{}
	for {
		wait := interval
		if left := time.Until(deadline); left < wait {
			wait = max(left, 0)
		}
		if o.Paused != nil {
			o.Paused(wait)
		}
		select {
		case <-ctx.Done():
			return &engineclient.Error{Kind: engineclient.KindLocal, Msg: fmt.Sprintf("Stopped waiting for the upload of plugin %s: %v.", name, ctx.Err()), Err: ctx.Err()}
		case <-time.After(wait):
		}
		interval = min(time.Duration(float64(interval)*o.Factor), o.Max)
		state, err := c.pollState(ctx, res, seen, o.Progress)
		if err != nil {
			return err
		}
		switch state {
		case engineapi.JobCompleted:
			c.log().Warn(fmt.Sprintf("Plugin %s was successfully uploaded.", name))
			return nil
		case engineapi.JobFailed, engineapi.JobSuspended, engineapi.JobCanceled, engineapi.JobCancelled:
			return &engineclient.Error{Kind: engineclient.KindJobFailed, Msg: fmt.Sprintf("Failed trying to upload plugin %s.", name)}
		}
		if !time.Now().Before(deadline) {
			return &engineclient.Error{Kind: engineclient.KindWaitTimedOut, Msg: fmt.Sprintf("Timed out waiting for upload of plugin %s to complete.", name)}
		}
	}
}

// seenEvents are the events of the upload's job that Wait has logged: the
// first done ones of the list, and the timestamps and codes of those
// logged (an event with the timestamp and code of one logged is not
// logged again, as dvp does), by their hash and at most maxSeenEvents: the
// engine sends the whole list at each poll, and a hostile one new events
// every time, for the hour Wait may last.
type seenEvents struct {
	done int
	keys map[[sha256.Size]byte]bool
}

const maxSeenEvents = 100_000

// first reports whether the event ev at index i of the list is new, and
// marks it seen.
func (s *seenEvents) first(i int, ev engineapi.JobEvent) bool {
	if i < s.done {
		return false
	}
	s.done = i + 1
	key := sha256.Sum256([]byte(ev.Timestamp + "\x00" + ev.MessageCode))
	if s.keys[key] {
		return false
	}
	if s.keys == nil {
		s.keys = map[[sha256.Size]byte]bool{}
	}
	if len(s.keys) < maxSeenEvents {
		s.keys[key] = true
	}
	return true
}

func (c *Client) pollState(ctx context.Context, res *UploadResult, seen *seenEvents, progress func(string, float64)) (string, error) {
	if res.Job != "" {
		job, err := c.Engine.GetActionJob(ctx, res.Action)
		if err != nil {
			return "", err
		}
		for i, ev := range job.Events {
			if !seen.first(i, ev) {
				continue
			}
			c.log().Info(fmt.Sprintf("Timestamp: %s, Code: %s", ev.Timestamp, ev.MessageCode))
			c.log().Warn(ev.MessageDetails)
			if ev.MessageAction != nil {
				c.log().Warn(*ev.MessageAction)
			}
		}
		if progress != nil {
			progress(job.JobState, job.PercentComplete)
		}
		return job.JobState, nil
	}
	a, err := c.Engine.GetAction(ctx, res.Action)
	if err != nil {
		return "", err
	}
	if a.State == engineapi.JobFailed && a.FailureDescription != nil {
		c.log().Warn(*a.FailureDescription)
		if a.FailureAction != nil {
			c.log().Warn(*a.FailureAction)
		}
	}
	return a.State, nil
}

// UploadOptions is everything `dvp upload` needs.
type UploadOptions struct {
	User, Password string
	ArtifactPath   string
	Wait           bool
	WaitOptions    WaitOptions
	// Uploaded, if set, is called once the engine has accepted the file,
	// before any wait (dvp says what goes on if it is interrupted).
	Uploaded func(*UploadResult)
}

// Upload runs the whole upload (docs/upload.md): check the artifact,
// log in with its engine API version, get a token, send the file, and with
// Wait follow the job to its end.
//
// The check reads the whole file, which takes about as long as logging in:
// when engineApi is among the first keys of the file (dvp build writes it
// before sourceCode), dvp logs in with it and asks for the token while the
// rest is checked, and sends the file only once the check has passed. An
// artifact that fails it is never sent (the login is then the only
// difference from checking first), and the check's error is the one
// reported, as when it comes first.
func (c *Client) Upload(ctx context.Context, o UploadOptions) (*UploadResult, error) {
	type checkResult struct {
		v   artifact.APIVersion
		err error
	}
	checked := make(chan checkResult, 1)
	go func() {
		v, err := CheckArtifact(o.ArtifactPath)
		checked <- checkResult{v, err}
	}()
	v, early := peekEngineAPI(o.ArtifactPath)
	if !early {
		r := <-checked
		if r.err != nil {
			return nil, r.err
		}
		v = r.v
	}
	token, err := c.loginForUpload(ctx, v, o)
	if early {
		r := <-checked
		switch {
		case r.err != nil:
			return nil, r.err
		case err == nil && r.v != v:
			// Not the engineApi that counts (a later duplicate key wins,
			// as in Python): the session must have the version that does.
			token, err = c.loginForUpload(ctx, r.v, o)
		}
	}
	if err != nil {
		return nil, err
	}
	res, err := c.UploadArtifact(ctx, token, o.ArtifactPath)
	if err != nil {
		return nil, err
	}
	if o.Uploaded != nil {
		o.Uploaded(res)
	}
	c.log().Info(fmt.Sprintf("Uploaded %s to %s (action %s%s).", filepath.Base(o.ArtifactPath), c.Engine.BaseURL().Host, res.Action, jobText(res.Job)))
	if o.Wait {
		if err := c.Wait(ctx, filepath.Base(o.ArtifactPath), res, o.WaitOptions); err != nil {
			return res, err
		}
	}
	return res, nil
}

// loginForUpload logs in with engine API v and asks for an upload token.
func (c *Client) loginForUpload(ctx context.Context, v artifact.APIVersion, o UploadOptions) (string, error) {
	if err := c.Engine.Login(ctx, v, o.User, o.Password); err != nil {
		return "", err
	}
	return c.RequestUploadToken(ctx)
}

// peekLimit bounds what peekEngineAPI reads.
const peekLimit = 64 << 10

// peekEngineAPI reads the top-level keys at the start of the artifact at
// path, up to engineApi, and returns its version if it is a valid
// APIVersion; ok is false when it is not, or not among the keys before
// sourceCode and within the first peekLimit bytes. It is only a head
// start: CheckArtifact's result is the one that counts.
func peekEngineAPI(path string) (v artifact.APIVersion, ok bool) {
	f, _, err := fsutil.OpenRegular(path)
	if err != nil {
		return v, false
	}
	defer f.Close()
	d := json.NewDecoder(io.LimitReader(f, peekLimit))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return v, false
	}
	for d.More() {
		t, err := d.Token()
		key, isKey := t.(string)
		if err != nil || !isKey || key == artifact.SourceCodeField {
			return v, false
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return v, false
		}
		if key == artifact.EngineAPIField {
			return artifact.CheckEngineAPI(raw)
		}
	}
	return v, false
}

func jobText(job string) string {
	if job == "" {
		return ""
	}
	return ", job " + job
}

// DownloadLogsOptions is everything `dvp download-logs` needs.
type DownloadLogsOptions struct {
	User, Password string
	PluginID       string
	PluginName     string
	Directory      string
	// EngineName names the engine in messages (the -e value).
	EngineName string
}

// DownloadLogs runs dvp download-logs (docs/upload.md): log in with engine
// API 1.11.16, find the plugin by identifier (and no namespace), generate
// its PLUGIN_LOG bundle and stream it to
// <Directory>/dlpx-plugin-logs-<name>-<token>.tar.gz, written atomically
// under a file name made safe. It returns the path.
func (c *Client) DownloadLogs(ctx context.Context, o DownloadLogsOptions) (string, error) {
	if err := c.Engine.Login(ctx, artifact.EngineAPIVersion, o.User, o.Password); err != nil {
		return "", err
	}
	// Each toolkit is read field by field, as dvp reads them: a toolkit
	// with odd fields is passed over, not an error.
	var toolkits []map[string]json.RawMessage
	if err := c.Engine.GetResult(ctx, engineapi.PathToolkits, &toolkits); err != nil {
		return "", err
	}
	ref := ""
	for _, tk := range toolkits {
		var id, r string
		json.Unmarshal(tk["identifier"], &id)
		ns := strings.TrimSpace(string(tk["namespace"]))
		if id == o.PluginID && (ns == "" || ns == "null") {
			json.Unmarshal(tk["reference"], &r)
			ref = r
			break
		}
	}
	if ref == "" {
		return "", &engineclient.Error{Kind: engineclient.KindMissingPlugin, Msg: fmt.Sprintf("Cannot find plugin %s on Delphix Engine %s. Upload your plugin with \"dvp upload\" and try again.", o.PluginName, o.EngineName)}
	}
	env, err := c.Engine.Post(ctx, engineapi.PathBundleGenerate,
		engineclient.PyDumps(bundleRequest{Type: "SupportBundleGenerateParameters", BundleType: "PLUGIN_LOG", Plugin: ref}))
	if err != nil {
		return "", err
	}
	var token string
	if json.Unmarshal(env.Result, &token) != nil || strings.TrimSpace(token) == "" {
		return "", engineclient.Unexpected(200, engineclient.PythonIndent2(env.Result))
	}
	token = strings.TrimSpace(token)
	dl, err := c.Engine.Download(ctx, engineapi.DownloadPath(token))
	if err != nil {
		return "", err
	}
	defer dl.Close()
	name := "dlpx-plugin-logs-" + fsutil.SafeFileName(o.PluginName, o.PluginID) + "-" + fsutil.SafeFileName(token, "bundle") + ".tar.gz"
	dst := filepath.Join(o.Directory, name)
	var body io.Reader = dl
	if c.Progress != nil {
		p := newProgress(c.Progress, "Downloading "+name, -1)
		defer p.done()
		body = p.reader(body)
	}
	if err := fsutil.WriteReader(dst, body, 0o644); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "", &engineclient.Error{Kind: engineclient.KindLocal, Msg: fmt.Sprintf("Cannot write the plugin logs to %s: %v", o.Directory, err), Err: err}
		}
		return "", engineclient.NetworkError(err)
	}
	c.log().Info(fmt.Sprintf("Plugin logs were successfully downloaded to %s.", o.Directory))
	return dst, nil
}
