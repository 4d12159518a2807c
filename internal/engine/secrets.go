package engine

// Secrets in plugin parameters (docs/engine.md, "Secrets"). A value that
// the plugin's schema marks as secret (format: password, and so the
// password and private key of a credential supplier) is
//   - masked in the stored document, so that every API answer, every list
//     dvp prints and the database file show "********" instead;
//   - kept sealed (AES-256-GCM, key file secrets.key in the data directory,
//     mode 0600) beside the document, and put back only when the engine
//     hands the object to the plugin;
//   - registered with the engine's redactor, which masks it in job events,
//     API errors, the engine's log and the plugin's log files, whatever
//     the plugin does with it.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/schema"
)

const (
	secretsKeyFile = "secrets.key"
	secretsKeySize = 32
	// SecretMask replaces a secret in stored and served documents.
	SecretMask   = "********"
	sealedPrefix = "v1:"
)

// secretKeeper seals and opens the secrets of stored objects and feeds
// every secret it sees to the redactor.
type secretKeeper struct {
	aead     cipher.AEAD
	keyPath  string
	redactor *logging.Redactor
	defs     sync.Map // artifact sha256 -> map[definition]json.RawMessage
}

// openSecretKeeper reads the data directory's key, creating it on first
// start.
func openSecretKeeper(dataDir string, r *logging.Redactor) (*secretKeeper, error) {
	p := filepath.Join(dataDir, secretsKeyFile)
	key, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, secretsKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeKey(p, key); err != nil {
			return nil, fmt.Errorf("creating the secrets key %s: %w", p, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the secrets key %s: %w", p, err)
	}
	if len(key) != secretsKeySize {
		return nil, fmt.Errorf("the secrets key %s is damaged (%d bytes, not %d); restore it from a backup: without it the engine cannot read the secrets of its stored objects", p, len(key), secretsKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretKeeper{aead: aead, keyPath: p, redactor: r}, nil
}

// writeKey writes the key to a new file atomically (a crash never leaves a
// short key behind).
func writeKey(p string, key []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".secrets.key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Link, not rename: two engines starting at once cannot both win.
	if err := os.Link(f.Name(), p); err != nil {
		return err
	}
	return nil
}

// secretFields are the fields of each object kind that hold plugin
// values, and the definition each follows ("" = decided per object).
var secretFields = map[string]map[string]string{
	kindRepository:   {"parameters": "repositoryDefinition"},
	kindSourceConfig: {"parameters": "sourceConfigDefinition"},
	kindContainer:    {"parameters": ""},
	kindSnapshot:     {"metadata": "snapshotDefinition", "snapshotParameters": "snapshotParametersDefinition"},
}

// definitions returns the plugin definitions of an installed toolkit.
func (k *secretKeeper) definitions(t *toolkitRow) (map[string]json.RawMessage, error) {
	if d, ok := k.defs.Load(t.ArtifactSHA256); ok {
		return d.(map[string]json.RawMessage), nil
	}
	a, err := t.artifact()
	if err != nil {
		return nil, err
	}
	d := pluginSchema(t, a).Definitions
	k.defs.Store(t.ArtifactSHA256, d)
	return d, nil
}

// seal masks the secrets of an object document (the API representation)
// and returns the sealed secrets ("" when there are none). toolkit looks
// up the object's plugin.
func (k *secretKeeper) seal(kind string, doc []byte, toolkit func(ref string) (*toolkitRow, error)) ([]byte, string, error) {
	fields := secretFields[kind]
	if fields == nil {
		return doc, "", nil
	}
	var head struct {
		Toolkit       string `json:"toolkit"`
		ContainerType string `json:"containerType"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || head.Toolkit == "" {
		return doc, "", err
	}
	t, err := toolkit(head.Toolkit)
	if err != nil || t == nil {
		return doc, "", err
	}
	defs, err := k.definitions(t)
	if err != nil {
		return doc, "", err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return doc, "", err
	}
	sealed := map[string]json.RawMessage{}
	masked := doc
	for field, def := range fields {
		if def == "" { // a container: dSource or VDB
			def = "linkedSourceDefinition"
			if head.ContainerType == "VDB" {
				def = "virtualSourceDefinition"
			}
		}
		raw, ok := top[field]
		if !ok || defs[def] == nil {
			continue
		}
		v, err := jsonschemamsg.DecodeJSON(raw)
		if err != nil {
			continue
		}
		for _, s := range schema.FindSecrets(defs[def], v) {
			path := append([]string{field}, s.Path...)
			val, err := json.Marshal(s.Value)
			if err != nil {
				return doc, "", err
			}
			sealed[jsonschemamsg.JoinPointer(path)] = val
			k.register(s.Text())
			if masked, err = setJSON(masked, path, []byte(`"`+SecretMask+`"`)); err != nil {
				return doc, "", err
			}
		}
	}
	if len(sealed) == 0 {
		return doc, "", nil
	}
	plain, err := json.Marshal(sealed)
	if err != nil {
		return doc, "", err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return doc, "", err
	}
	box := k.aead.Seal(nonce, nonce, plain, nil)
	return masked, sealedPrefix + base64.StdEncoding.EncodeToString(box), nil
}

// open puts the sealed secrets back into a masked document.
func (k *secretKeeper) open(doc []byte, sealed string) ([]byte, error) {
	if sealed == "" {
		return doc, nil
	}
	box, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	n := k.aead.NonceSize()
	if err != nil || !strings.HasPrefix(sealed, sealedPrefix) || len(box) < n {
		return nil, &sealError{msg: "the sealed secrets of the object are damaged", key: k.keyPath}
	}
	plain, err := k.aead.Open(nil, box[:n], box[n:], nil)
	if err != nil {
		return nil, &sealError{msg: fmt.Sprintf("the secrets of the object cannot be decrypted with %s (was the key replaced?): %v", k.keyPath, err), key: k.keyPath}
	}
	var secrets map[string]json.RawMessage
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, err
	}
	for ptr, val := range secrets {
		var s any
		if json.Unmarshal(val, &s) == nil {
			if str, ok := s.(string); ok {
				k.register(str)
			} else {
				k.register(string(val))
			}
		}
		if doc, err = setJSON(doc, jsonschemamsg.SplitPointer(ptr), val); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// sealError is a stored object whose secrets cannot be opened.
type sealError struct{ msg, key string }

func (e *sealError) Error() string { return e.msg }

// register adds a secret to the redactor: the whole value and, for a
// multi-line value such as a private key, each of its longer lines.
func (k *secretKeeper) register(s string) {
	if k.redactor == nil || s == "" {
		return
	}
	k.redactor.Add(s)
	if strings.Contains(s, "\n") {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 16 {
				k.redactor.Add(line)
			}
		}
	}
}

// registerSecrets registers the secrets of a request's value of a
// definition before anything can echo it (validation messages included).
func (k *secretKeeper) registerSecrets(definition []byte, raw []byte) {
	v, err := jsonschemamsg.DecodeJSON(raw)
	if err != nil {
		return
	}
	for _, s := range schema.FindSecrets(definition, v) {
		k.register(s.Text())
	}
}

// setJSON returns doc with the value at path replaced by val, keeping the
// order and spelling of everything else. A path that does not exist leaves
// doc as it is.
func setJSON(doc []byte, path []string, val []byte) ([]byte, error) {
	if len(path) == 0 {
		return val, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	switch tok {
	case json.Delim('{'):
		out.WriteByte('{')
		for first := true; dec.More(); first = false {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			if key == path[0] {
				if raw, err = setJSON(raw, path[1:], val); err != nil {
					return nil, err
				}
			}
			if !first {
				out.WriteByte(',')
			}
			kb, _ := json.Marshal(key)
			out.Write(kb)
			out.WriteByte(':')
			out.Write(raw)
		}
		out.WriteByte('}')
	case json.Delim('['):
		out.WriteByte('[')
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			if fmt.Sprint(i) == path[0] {
				if raw, err = setJSON(raw, path[1:], val); err != nil {
					return nil, err
				}
			}
			if i > 0 {
				out.WriteByte(',')
			}
			out.Write(raw)
		}
		out.WriteByte(']')
	default:
		return doc, nil // a scalar has no members
	}
	return out.Bytes(), nil
}

// toolkitLookup returns a toolkit finder that queries through q (inside a
// transaction when q is one: the store has a single connection).
func (s *store) toolkitLookup(ctx context.Context, q querier) func(string) (*toolkitRow, error) {
	return func(ref string) (*toolkitRow, error) { return s.toolkitByRefQ(ctx, q, ref) }
}

// redactingWriter masks registered secrets in what a plugin writes to
// stderr, a line at a time (a secret cut across two writes is still
// seen); a line longer than maxRedactLine is written in pieces.
type redactingWriter struct {
	mu  sync.Mutex
	w   io.Writer
	r   *logging.Redactor
	buf []byte
}

const maxRedactLine = 64 << 10

func (rw *redactingWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.buf = append(rw.buf, p...)
	for {
		i := bytes.IndexByte(rw.buf, '\n')
		if i < 0 {
			if len(rw.buf) <= maxRedactLine {
				return len(p), nil
			}
			i = maxRedactLine - 1
		}
		line := rw.buf[:i+1]
		if _, err := io.WriteString(rw.w, rw.r.Redact(string(line))); err != nil {
			return len(p), err
		}
		rw.buf = rw.buf[i+1:]
	}
}

// Flush writes what is left of the last line.
func (rw *redactingWriter) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(rw.w, rw.r.Redact(string(rw.buf)))
	rw.buf = nil
	return err
}

// primeSecrets registers the secrets of every stored object with the
// redactor at start-up (before any job can print one). It returns the
// number of objects whose secrets could not be opened, and the first
// error.
func (s *store) primeSecrets(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data, sealed FROM objects WHERE sealed <> ''`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	bad, first := 0, error(nil)
	for rows.Next() {
		var data, sealed string
		if err := rows.Scan(&data, &sealed); err != nil {
			return bad, err
		}
		if _, err := s.keeper.open([]byte(data), sealed); err != nil {
			bad++
			if first == nil {
				first = err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return bad, err
	}
	return bad, first
}
