package upload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
)

// The multipart boundary of dvp's upload (reference 7.4): 10 dashes,
// "boundary", 6 dashes.
const Boundary = "----------boundary------"

// Session and login bodies, fields in the order dvp sends them.
type apiVersion struct {
	Type  string `json:"type"`
	Major int    `json:"major"`
	Minor int    `json:"minor"`
	Micro int    `json:"micro"`
}

type sessionRequest struct {
	Version apiVersion `json:"version"`
	Type    string     `json:"type"`
}

type loginRequest struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type bundleRequest struct {
	Type       string `json:"type"`
	BundleType string `json:"bundleType"`
	Plugin     string `json:"plugin"`
}

// Login starts a session with the API version v and logs in (reference 7.3).
func (c *Client) Login(ctx context.Context, v artifact.APIVersion, user, password string) error {
	body := pyDumps(sessionRequest{Version: apiVersion{Type: "APIVersion", Major: v.Major, Minor: v.Minor, Micro: v.Micro}, Type: "APISession"})
	if _, err := c.post(ctx, request{path: "delphix/session", body: body, idempotent: true}); err != nil {
		return err
	}
	c.log.Debug("session started", "api", v.String())
	body = pyDumps(loginRequest{Type: "LoginRequest", Username: user, Password: password})
	if _, err := c.post(ctx, request{path: "delphix/login", body: body}); err != nil {
		return err
	}
	c.log.Debug("logged in", "user", user)
	return nil
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.post(ctx, request{path: "delphix/logout"})
	return err
}

// RequestUploadToken asks for an upload token (reference 7.4 step 4).
func (c *Client) RequestUploadToken(ctx context.Context) (string, error) {
	env, err := c.post(ctx, request{path: "delphix/toolkit/requestUploadToken"})
	if err != nil {
		return "", err
	}
	var res struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(env.Result, &res) != nil || res.Token == "" {
		return "", unexpected(200, pythonIndent2(env.Result))
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
// the upload body, laid out exactly as dvp's client does (reference 7.4).
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
// held in memory) in dvp's multipart layout (reference 7.4 step 5).
func (c *Client) UploadArtifact(ctx context.Context, token, path string) (*UploadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, readError(path, err)
	}
	head, tail := MultipartParts(token, filepath.Base(path))
	var file io.Reader = f
	if c.o.Progress != nil {
		p := newProgress(c.o.Progress, "Uploading "+filepath.Base(path), st.Size())
		defer p.done()
		file = p.reader(f)
	}
	body := io.MultiReader(bytesReader(head), file, bytesReader(tail))
	n := int64(len(head)) + st.Size() + int64(len(tail))
	env, err := c.post(ctx, request{path: "delphix/data/upload", contentType: "multipart/form-data; boundary=" + Boundary,
		stream: &streamBody{r: body, n: n}})
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

// readError is the reference's read failure: the errno's symbolic name.
func readError(path string, err error) *Error {
	var errno syscall.Errno
	code, name := 0, err.Error()
	if errors.As(err, &errno) {
		code, name = int(errno), errnoName(errno)
	}
	return &Error{Kind: KindArtifactRead, Msg: fmt.Sprintf("Unable to read upload artifact file '%s'\nError code: %d. Error message: %s", path, code, name), Err: err}
}

// Messages of reference 7.4.
const (
	InvalidJSONMessage     = "Upload failed because the upload artifact was not a valid json file. Verify the file was built using the delphix build command."
	InvalidEngineAPIMessge = "The engineApi field is either missing or malformed. The field must be of the form:\n" +
		"{\n  \"type\": \"APIVersion\",\n  \"major\": 1,\n  \"minor\": 7,\n  \"micro\": 0\n}\n" +
		"Verify that the artifact passed in was generated by the build function."
)

// CheckArtifact reads the artifact file once, with a streaming decoder
// (memory does not grow with its size), and checks what dvp checks before
// uploading: that it is JSON and that engineApi is an APIVersion. It
// returns the engine API version to log in with.
func CheckArtifact(path string) (artifact.APIVersion, error) {
	f, err := os.Open(path)
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
		return artifact.APIVersion{}, &Error{Kind: KindInvalidArtifact, Msg: InvalidEngineAPIMessge}
	case errors.As(err, &syn):
		return artifact.APIVersion{}, &Error{Kind: KindArtifactJSON, Msg: InvalidJSONMessage, Err: err}
	case errors.As(err, &pe):
		return artifact.APIVersion{}, readError(path, err)
	default:
		var tl *artifact.FieldTooLargeError
		if errors.As(err, &tl) {
			return artifact.APIVersion{}, &Error{Kind: KindArtifactJSON, Msg: InvalidJSONMessage + "\n(" + tl.Error() + ")", Err: err}
		}
		return artifact.APIVersion{}, readError(path, err)
	}
	v, ok := artifact.CheckEngineAPI(fields.Values[artifact.EngineAPIField])
	if !ok {
		return artifact.APIVersion{}, &Error{Kind: KindInvalidArtifact, Msg: InvalidEngineAPIMessge}
	}
	return v, nil
}

// WaitOptions tune Wait.
type WaitOptions struct {
	Timeout  time.Duration // overall; 0: one hour (reference 7.5)
	First    time.Duration // first polling interval; 0: 250 ms
	Max      time.Duration // longest interval; 0: 5 s
	Factor   float64       // growth of the interval; 0: 1.6
	Progress func(state string, percent float64)
}

// Wait polls the upload's job (or action) until it ends (reference 7.5),
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
		return unexpected(200, "the upload answer has no action to wait for")
	}
	deadline := time.Now().Add(o.Timeout)
	interval := o.First
	seen := map[[2]string]bool{}
	for {
		wait := interval
		if left := time.Until(deadline); left < wait {
			wait = max(left, 0)
		}
		select {
		case <-ctx.Done():
			return &Error{Kind: KindLocal, Msg: fmt.Sprintf("Stopped waiting for the upload of plugin %s: %v.", name, ctx.Err()), Err: ctx.Err()}
		case <-time.After(wait):
		}
		interval = min(time.Duration(float64(interval)*o.Factor), o.Max)
		state, err := c.pollState(ctx, res, seen, o.Progress)
		if err != nil {
			return err
		}
		switch state {
		case "COMPLETED":
			c.log.Warn(fmt.Sprintf("Plugin %s was successfully uploaded.", name))
			return nil
		case "FAILED", "SUSPENDED", "CANCELLED":
			return &Error{Kind: KindJobFailed, Msg: fmt.Sprintf("Failed trying to upload plugin %s.", name)}
		}
		if !time.Now().Before(deadline) {
			return &Error{Kind: KindWaitTimedOut, Msg: fmt.Sprintf("Timed out waiting for upload of plugin %s to complete.", name)}
		}
	}
}

type jobEvent struct {
	Timestamp      string  `json:"timestamp"`
	MessageCode    string  `json:"messageCode"`
	MessageDetails string  `json:"messageDetails"`
	MessageAction  *string `json:"messageAction"`
}

func (c *Client) pollState(ctx context.Context, res *UploadResult, seen map[[2]string]bool, progress func(string, float64)) (string, error) {
	if res.Job != "" {
		resp, err := c.get(ctx, "delphix/action/"+res.Action+"/getJob", "application/json")
		if err != nil {
			return "", err
		}
		var env struct {
			Result struct {
				JobState        string     `json:"jobState"`
				PercentComplete float64    `json:"percentComplete"`
				Events          []jobEvent `json:"events"`
			} `json:"result"`
		}
		if err := json.Unmarshal(resp.body, &env); err != nil {
			return "", unexpected(resp.status, string(resp.body))
		}
		for _, ev := range env.Result.Events {
			key := [2]string{ev.Timestamp, ev.MessageCode}
			if seen[key] {
				continue
			}
			seen[key] = true
			c.log.Info(fmt.Sprintf("Timestamp: %s, Code: %s", ev.Timestamp, ev.MessageCode))
			c.log.Warn(ev.MessageDetails)
			if ev.MessageAction != nil {
				c.log.Warn(*ev.MessageAction)
			}
		}
		if progress != nil {
			progress(env.Result.JobState, env.Result.PercentComplete)
		}
		return env.Result.JobState, nil
	}
	resp, err := c.get(ctx, "delphix/action/"+res.Action, "application/json")
	if err != nil {
		return "", err
	}
	var env struct {
		Result struct {
			State              string  `json:"state"`
			FailureDescription *string `json:"failureDescription"`
			FailureAction      *string `json:"failureAction"`
		} `json:"result"`
	}
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return "", unexpected(resp.status, string(resp.body))
	}
	if env.Result.State == "FAILED" && env.Result.FailureDescription != nil {
		c.log.Warn(*env.Result.FailureDescription)
		if env.Result.FailureAction != nil {
			c.log.Warn(*env.Result.FailureAction)
		}
	}
	return env.Result.State, nil
}

// UploadOptions is everything `dvp upload` needs.
type UploadOptions struct {
	User, Password string
	ArtifactPath   string
	Wait           bool
	WaitOptions    WaitOptions
}

// Upload runs the whole upload (reference 7.4 and 7.5): check the artifact,
// log in with its engine API version, get a token, send the file, and with
// Wait follow the job to its end.
func (c *Client) Upload(ctx context.Context, o UploadOptions) (*UploadResult, error) {
	v, err := CheckArtifact(o.ArtifactPath)
	if err != nil {
		return nil, err
	}
	if err := c.Login(ctx, v, o.User, o.Password); err != nil {
		return nil, err
	}
	token, err := c.RequestUploadToken(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.UploadArtifact(ctx, token, o.ArtifactPath)
	if err != nil {
		return nil, err
	}
	c.log.Info(fmt.Sprintf("Uploaded %s to %s (action %s%s).", filepath.Base(o.ArtifactPath), c.base.Host, res.Action, jobText(res.Job)))
	if o.Wait {
		if err := c.Wait(ctx, filepath.Base(o.ArtifactPath), res, o.WaitOptions); err != nil {
			return res, err
		}
	}
	return res, nil
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

// DownloadLogs runs reference 7.6: log in with engine API 1.11.16, find the
// plugin by identifier (and no namespace), generate its PLUGIN_LOG bundle
// and stream it to <Directory>/dlpx-plugin-logs-<name>-<token>.tar.gz,
// written atomically under a file name made safe. It returns the path.
func (c *Client) DownloadLogs(ctx context.Context, o DownloadLogsOptions) (string, error) {
	if err := c.Login(ctx, artifact.EngineAPIVersion, o.User, o.Password); err != nil {
		return "", err
	}
	resp, err := c.get(ctx, "delphix/toolkit", "application/json")
	if err != nil {
		return "", err
	}
	var list struct {
		Result []map[string]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(resp.body, &list); err != nil {
		return "", unexpected(resp.status, string(resp.body))
	}
	ref := ""
	for _, tk := range list.Result {
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
		return "", &Error{Kind: KindMissingPlugin, Msg: fmt.Sprintf("Cannot find plugin %s on Delphix Engine %s. Upload your plugin with \"dvp upload\" and try again.", o.PluginName, o.EngineName)}
	}
	env, err := c.post(ctx, request{path: "delphix/service/support/bundle/generate",
		body: pyDumps(bundleRequest{Type: "SupportBundleGenerateParameters", BundleType: "PLUGIN_LOG", Plugin: ref})})
	if err != nil {
		return "", err
	}
	var token string
	if json.Unmarshal(env.Result, &token) != nil || strings.TrimSpace(token) == "" {
		return "", unexpected(200, pythonIndent2(env.Result))
	}
	token = strings.TrimSpace(token)
	dl, err := c.get(ctx, "delphix/data/downloadOutputStream?token="+urlQueryEscape(token), "application/octet-stream")
	if err != nil {
		return "", err
	}
	defer dl.close()
	name := "dlpx-plugin-logs-" + artifact.SafeFileName(o.PluginName, o.PluginID) + "-" + artifact.SafeFileName(token, "bundle") + ".tar.gz"
	dst := filepath.Join(o.Directory, name)
	var body io.Reader = dl.raw
	if c.o.Progress != nil {
		p := newProgress(c.o.Progress, "Downloading "+name, -1)
		defer p.done()
		body = p.reader(body)
	}
	if err := artifact.WriteFileAtomic(dst, body, 0o644); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "", &Error{Kind: KindLocal, Msg: fmt.Sprintf("Cannot write the plugin logs to %s: %v", o.Directory, err), Err: err}
		}
		return "", networkError(err)
	}
	c.log.Info(fmt.Sprintf("Plugin logs were successfully downloaded to %s.", o.Directory))
	return dst, nil
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
