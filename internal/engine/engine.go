// Package engine is dvp's local engine: the subset of the Delphix Engine
// REST API that `dvp upload` and `dvp download-logs` use (reference section
// 7), with sessions, hashed passwords and single-use tokens, validation of
// every uploaded artifact as an engine does, and real persistence (SQLite
// plus content-addressed blobs) in a data directory.
package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/logging"
)

// Defaults of Config.
const (
	DefaultListen           = "127.0.0.1:8780"
	DefaultMaxUploadBytes   = 2 << 30
	DefaultMaxSourceBytes   = 4 << 30
	DefaultSessionTimeout   = 30 * time.Minute
	DefaultUploadTokenTTL   = 5 * time.Minute
	DefaultDownloadTokenTTL = 10 * time.Minute
)

// APIVersion is the newest engine API version this engine speaks; sessions
// may ask for any 1.x version up to it.
var APIVersion = artifact.EngineAPIVersion

// Config configures an engine.
type Config struct {
	DataDir string
	// AdminPassword, when set, becomes the admin's password (replacing the
	// stored one). When empty, the stored password is kept, or on first
	// start a password is generated and returned by New, once.
	AdminPassword    string
	MaxUploadBytes   int64         // size limit of an uploaded artifact
	MaxSourceBytes   int64         // limit of the uncompressed sourceCode ZIP
	SessionTimeout   time.Duration // idle time after which a session ends
	UploadTokenTTL   time.Duration
	DownloadTokenTTL time.Duration
	Log              *slog.Logger     // nil: discard
	Clock            func() time.Time // nil: time.Now
	BcryptCost       int              // 0: bcrypt.DefaultCost (tests use bcrypt.MinCost)
	// OperationTimeout bounds one plugin operation; 0: exec.DefaultOperationTimeout.
	OperationTimeout time.Duration
	// Redactor masks secrets; the engine registers every secret of plugin
	// parameters with it. Give the one Log's handler uses, so that the
	// engine's log is masked too. nil: a new one.
	Redactor *logging.Redactor
}

func (c *Config) defaults() {
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.MaxSourceBytes <= 0 {
		c.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.UploadTokenTTL <= 0 {
		c.UploadTokenTTL = DefaultUploadTokenTTL
	}
	if c.DownloadTokenTTL <= 0 {
		c.DownloadTokenTTL = DefaultDownloadTokenTTL
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = exec.DefaultOperationTimeout
	}
	if c.Redactor == nil {
		c.Redactor = logging.NewRedactor()
	}
}

// Engine is a running local engine.
type Engine struct {
	cfg       Config
	store     *store.Store
	keeper    *secrets.Keeper
	runner    *exec.Runner
	lock      *os.File
	sessions  *sessions
	uploads   *tokens
	downloads *tokens
	jobs      *jobs.Manager
	stop      chan struct{}
	stopOnce  sync.Once
	handler   http.Handler
}

// New opens (creating if needed) the data directory and recovers from a
// crash. It returns the generated admin password when it made one (first
// start without Config.AdminPassword); the caller shows it once.
func New(cfg Config) (*Engine, string, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, "", errors.New("the engine needs a data directory")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	if err := store.SecureDataDir(cfg.DataDir); err != nil {
		return nil, "", err
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, "", err
	}
	keeper, err := secrets.OpenKeeper(cfg.DataDir, cfg.Redactor)
	if err != nil {
		lock.Close()
		return nil, "", err
	}
	st, err := store.Open(cfg.DataDir, keeper)
	if err != nil {
		lock.Close()
		return nil, "", err
	}
	e := &Engine{
		cfg: cfg, store: st, keeper: keeper, lock: lock,
		sessions:  newSessions(cfg.SessionTimeout, cfg.Clock),
		uploads:   newTokens(cfg.UploadTokenTTL, cfg.Clock),
		downloads: newTokens(cfg.DownloadTokenTTL, cfg.Clock),
		stop:      make(chan struct{}),
	}
	e.jobs = jobs.NewManager(st, cfg.Redactor, cfg.Clock, cfg.Log, describeFailure)
	e.runner = &exec.Runner{DataDir: cfg.DataDir, Timeout: cfg.OperationTimeout, Redactor: cfg.Redactor, Secret: keeper.Register,
		Environment: func(ctx context.Context, ref string) (env Environment, found bool, err error) {
			found, err = st.GetObject(ctx, store.KindEnvironment, ref, &env)
			return env, found, err
		}}
	tmp, blobs, err := st.Recover(cfg.Clock())
	if err != nil {
		e.Close()
		return nil, "", fmt.Errorf("recovering the data directory %s: %w", cfg.DataDir, err)
	}
	if tmp > 0 || blobs > 0 {
		cfg.Log.Info("recovered the data directory", "partial_uploads_removed", tmp, "orphan_blobs_removed", blobs)
	}
	if n, err := e.recoverObjects(context.Background()); err != nil {
		e.Close()
		return nil, "", fmt.Errorf("recovering the objects of %s: %w", cfg.DataDir, err)
	} else if n > 0 {
		cfg.Log.Info("removed the snapshots a stop interrupted", "count", n)
	}
	if n, err := st.PrimeSecrets(context.Background()); err != nil {
		// The objects stay listed; the jobs that need their secrets fail
		// with this error until the key is restored.
		cfg.Log.Error("the secrets of stored objects cannot be read", "objects", n, "error", err)
	}
	generated, err := e.ensureAdmin(context.Background())
	if err != nil {
		e.Close()
		return nil, "", err
	}
	e.handler = e.routes()
	go e.janitor()
	return e, generated, nil
}

// lockDataDir takes an exclusive lock on the data directory, so that two
// engines never share one.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, store.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFileExclusive(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("the data directory %s is in use by another engine (%v); stop it or choose another --data-dir", dir, err)
	}
	return f, nil
}

func (e *Engine) ensureAdmin(ctx context.Context) (string, error) {
	pw := e.cfg.AdminPassword
	generated := ""
	if pw == "" {
		ok, err := e.store.HasUser(ctx, AdminUser)
		if err != nil || ok {
			return "", err
		}
		pw = GeneratePassword()
		generated = pw
	}
	h, err := hashPassword(pw, e.cfg.BcryptCost)
	if err != nil {
		return "", err
	}
	return generated, e.store.SetUser(ctx, AdminUser, h, e.cfg.Clock())
}

// Handler is the engine's HTTP API.
func (e *Engine) Handler() http.Handler { return e.handler }

// DataDir is the engine's data directory.
func (e *Engine) DataDir() string { return e.cfg.DataDir }

func (e *Engine) janitor() {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.sessions.sweep()
			e.uploads.sweep()
			for _, p := range e.downloads.sweep() {
				os.Remove(p)
			}
		}
	}
}

// Close waits for running jobs and closes the store.
func (e *Engine) Close() error {
	e.stopOnce.Do(func() { close(e.stop) })
	e.jobs.Stop()
	e.jobs.Wait()
	err := e.store.Close()
	if e.lock != nil {
		e.lock.Close()
	}
	return err
}

// ServeOptions say where and how to listen.
type ServeOptions struct {
	Listener net.Listener // required
	TLSCert  string       // with TLSKey: serve HTTPS
	TLSKey   string
	// Ready, when set, is called with the engine's base URL once it accepts
	// connections.
	Ready func(url string)
}

// Serve answers requests until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish (up to 30 s) and waits
// for running jobs.
func (e *Engine) Serve(ctx context.Context, o ServeOptions) error {
	srv := &http.Server{
		Handler:           e.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(e.cfg.Log.Handler(), slog.LevelDebug),
	}
	scheme := "http"
	if o.TLSCert != "" || o.TLSKey != "" {
		if o.TLSCert == "" || o.TLSKey == "" {
			return errors.New("TLS needs both a certificate (--tls-cert) and a key (--tls-key)")
		}
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(o.Listener, "", "")
		} else {
			errc <- srv.Serve(o.Listener)
		}
	}()
	url := scheme + "://" + o.Listener.Addr().String()
	if o.Ready != nil {
		o.Ready(url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.cfg.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	e.jobs.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
