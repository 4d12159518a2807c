// Package secrets keeps the secrets of the local engine's stored objects
// (docs/engine.md, "Secrets in plugin parameters"). A value that the plugin's schema marks as
// secret (format: password, and so the password and private key of a
// credential supplier) is
//   - masked in the stored document, so that every API answer, every list
//     dvp prints and the database file show "********" instead;
//   - kept sealed (AES-256-GCM, key file secrets.key in the data directory,
//     mode 0600) beside the document, and put back only when the engine
//     hands the object to the plugin;
//   - registered with the engine's redactor, which masks it in job events,
//     API errors, the engine's log and the plugin's log files, whatever
//     the plugin does with it.
//
// The store seals and opens documents through a Keeper; the plugin runner
// writes the plugin's output through a RedactingWriter.
package secrets

import (
	"bytes"
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

	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/schema"
)

const (
	// KeyFile is the key's file in the data directory.
	KeyFile = "secrets.key"
	KeySize = 32 // bytes of the AES-256 key
	// SecretMask replaces a secret in stored and served documents.
	SecretMask   = "********"
	sealedPrefix = "v1:"
)

// Keeper seals and opens the secrets of stored objects and feeds
// every secret it sees to the redactor.
type Keeper struct {
	aead     cipher.AEAD
	keyPath  string
	redactor *logging.Redactor
}

// OpenKeeper reads the data directory's key, creating it on first
// start.
func OpenKeeper(dataDir string, r *logging.Redactor) (*Keeper, error) {
	p := filepath.Join(dataDir, KeyFile)
	key, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeKey(p, key); err != nil {
			return nil, fmt.Errorf("creating the secrets key %s: %w", p, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the secrets key %s: %w", p, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("the secrets key %s is damaged (%d bytes, not %d); restore it from a backup: without it the engine cannot read the secrets of its stored objects", p, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keeper{aead: aead, keyPath: p, redactor: r}, nil
}

// writeKey writes the key to a new file atomically (a crash never leaves a
// short key behind); of two engines starting at once only one wins
// (fsutil.WriteNewFile links, it does not rename).
func writeKey(p string, key []byte) error {
	return fsutil.WriteNewFile(p, key, 0o600)
}

// Seal masks the secrets of an object document (the API representation)
// and returns the sealed secrets ("" when there are none). fields are the
// document's fields that hold plugin values and the definition of each
// ("" = the container's: linkedSourceDefinition, or virtualSourceDefinition
// for a VDB); defs returns the definitions of the object's plugin (nil
// when it is not installed).
func (k *Keeper) Seal(doc []byte, fields map[string]string, defs func(toolkitRef string) (map[string]json.RawMessage, error)) ([]byte, string, error) {
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
	ds, err := defs(head.Toolkit)
	if err != nil || ds == nil {
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
		if !ok || ds[def] == nil {
			continue
		}
		v, err := jsonschemamsg.DecodeJSON(raw)
		if err != nil {
			continue
		}
		for _, s := range schema.FindSecrets(ds[def], v) {
			path := append([]string{field}, s.Path...)
			val, err := json.Marshal(s.Value)
			if err != nil {
				return doc, "", err
			}
			sealed[jsonpointer.Join(path...)] = val
			k.Register(s.Text())
			if masked, err = SetJSON(masked, path, []byte(`"`+SecretMask+`"`)); err != nil {
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

// Unseal puts the sealed secrets back into a masked document.
func (k *Keeper) Unseal(doc []byte, sealed string) ([]byte, error) {
	if sealed == "" {
		return doc, nil
	}
	box, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	n := k.aead.NonceSize()
	if err != nil || !strings.HasPrefix(sealed, sealedPrefix) || len(box) < n {
		return nil, &SealError{Msg: "the sealed secrets of the object are damaged", KeyPath: k.keyPath}
	}
	plain, err := k.aead.Open(nil, box[:n], box[n:], nil)
	if err != nil {
		return nil, &SealError{Msg: fmt.Sprintf("the secrets of the object cannot be decrypted with %s (was the key replaced?): %v", k.keyPath, err), KeyPath: k.keyPath}
	}
	var secrets map[string]json.RawMessage
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, err
	}
	for ptr, val := range secrets {
		var s any
		if json.Unmarshal(val, &s) == nil {
			if str, ok := s.(string); ok {
				k.Register(str)
			} else {
				k.Register(string(val))
			}
		}
		if doc, err = SetJSON(doc, jsonpointer.Split(ptr), val); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// SealError is a stored object whose secrets cannot be opened; KeyPath is
// the key file to restore.
type SealError struct{ Msg, KeyPath string }

func (e *SealError) Error() string { return e.Msg }

// Register adds a secret to the redactor: the whole value and, for a
// multi-line value such as a private key, each of its longer lines.
func (k *Keeper) Register(s string) {
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

// RegisterSecrets registers the secrets of a request's value of a
// definition before anything can echo it (validation messages included).
func (k *Keeper) RegisterSecrets(definition []byte, raw []byte) {
	v, err := jsonschemamsg.DecodeJSON(raw)
	if err != nil {
		return
	}
	for _, s := range schema.FindSecrets(definition, v) {
		k.Register(s.Text())
	}
}

// SetJSON returns doc with the value at path replaced by val, keeping the
// order and spelling of everything else. A path that does not exist leaves
// doc as it is.
func SetJSON(doc []byte, path []string, val []byte) ([]byte, error) {
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
				if raw, err = SetJSON(raw, path[1:], val); err != nil {
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
				if raw, err = SetJSON(raw, path[1:], val); err != nil {
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

// RedactingWriter masks registered secrets in what a plugin writes to
// stderr, a line at a time (a secret cut across two writes is still
// seen); a line longer than maxRedactLine is written in pieces.
type RedactingWriter struct {
	mu  sync.Mutex
	w   io.Writer
	r   *logging.Redactor
	buf []byte
}

const maxRedactLine = 64 << 10

// NewRedactingWriter writes to w what is written to it, with the secrets
// registered with r masked.
func NewRedactingWriter(w io.Writer, r *logging.Redactor) *RedactingWriter {
	return &RedactingWriter{w: w, r: r}
}

func (rw *RedactingWriter) Write(p []byte) (int, error) {
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
func (rw *RedactingWriter) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(rw.w, rw.r.Redact(string(rw.buf)))
	rw.buf = nil
	return err
}
