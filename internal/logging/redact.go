package logging

import (
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces every secret in logs and messages.
const Mask = "******"

// secretPatterns catch secrets by shape, for values dvp never saw as a flag:
// JSON fields and key=value pairs named like passwords or keys, session
// cookies, and Authorization headers.
var secretPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`(?i)("(?:password|passwd|privateKey|private_key|secret|token|credentials?)"\s*:\s*")((?:[^"\\]|\\.)*)(")`),
		regexp.MustCompile(`(?i)\b((?:password|passwd|secret)\s*=\s*)([^\s,;&"']+)()`),
		regexp.MustCompile(`(?i)\b(JSESSIONID=)([^;\s"]+)()`),
		regexp.MustCompile(`(?i)\b(Authorization:\s*\w+\s+)(\S+)()`),
	}
})

// shortSecret is the length under which a registered secret is masked only
// as a whole word: masking every "x" of a one-letter password would mangle
// the rest of the text (and tell where the letter occurs anyway).
const shortSecret = 6

// Redactor removes secrets from text. Known secret values (a password given
// on the command line, read from the environment or the config file) are
// registered with Add and replaced wherever they appear.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
	short   []*regexp.Regexp
}

// NewRedactor returns a Redactor with no registered secrets.
func NewRedactor() *Redactor { return &Redactor{} }

// Add registers a secret value; empty values are ignored.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	if len(secret) < shortSecret {
		r.short = append(r.short, regexp.MustCompile(`(^|[^\pL\pN])`+regexp.QuoteMeta(secret)+`($|[^\pL\pN])`))
		r.secrets = append(r.secrets, secret)
		return
	}
	r.secrets = append(r.secrets, secret)
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Redact returns s with every registered secret and every secret-shaped
// field masked.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	for _, sec := range r.secrets {
		if len(sec) >= shortSecret {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	for _, re := range r.short {
		s = re.ReplaceAllString(s, "${1}"+Mask+"${2}")
	}
	r.mu.RUnlock()
	if !mayHoldSecretShape(s) {
		return s
	}
	for _, re := range secretPatterns() {
		s = re.ReplaceAllString(s, "${1}"+Mask+"${3}")
	}
	return s
}

// secretWords are the words every secretPatterns match contains (matched
// case-insensitively, as the patterns are).
var secretWords = []string{"passw", "privatekey", "private_key", "secret", "token", "credential", "jsessionid=", "authorization:"}

// mayHoldSecretShape reports whether s contains a word of secretWords: text
// without one cannot match secretPatterns, so most log lines skip them (and
// a run that logs none never compiles them). Text with non-ASCII runes is
// always checked: the patterns' case folding also maps runes such as U+017F
// (long s) and U+212A (Kelvin sign) to ASCII letters, strings.ToLower does not.
func mayHoldSecretShape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	l := strings.ToLower(s)
	for _, w := range secretWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}
