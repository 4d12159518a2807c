package logging

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
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
// where it stands as a token of its own: masking every "x" of a one-letter
// password, or the "weak" of --allow-weak-password when the password is
// "weak", would mangle the rest of the text (and tell where the letters
// occur anyway). A token is bounded by anything but a letter, a digit, '-'
// and '_' (so a word, a hyphenated option name or an identifier that
// contains the secret is left alone; the secret on its own, quoted, after
// '=' or ':' or before '.' is masked). A secret of shortSecret bytes or
// more is masked wherever it occurs.
const shortSecret = 6

// Redactor removes secrets from text. Known secret values (a password given
// on the command line, read from the environment or the config file, the
// secrets of the objects an engine stores and of what plugins return) are
// registered with Add and replaced wherever they appear.
//
// The engine registers every secret it sees, some of them from plugins
// (hostile code that can return tens of thousands), and redacts every
// message and log line: registering and redacting cost the same whatever
// the number of secrets. At each position of the text, the lengths of the
// secrets that start with its next shortSecret bytes are looked up, then
// the text of each length in the set of secrets: secrets are never
// compared one by one.
type Redactor struct {
	mu sync.RWMutex
	// long holds the secrets of shortSecret bytes or more, lens their
	// lengths by their first shortSecret bytes, longest first (so a secret
	// containing another is masked whole); short holds the others.
	long  map[string]bool
	lens  map[string][]int
	short map[string]bool
	// first marks the bytes a secret starts with.
	first [256]bool
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
	if r.long == nil {
		r.long, r.lens, r.short = map[string]bool{}, map[string][]int{}, map[string]bool{}
	}
	r.first[secret[0]] = true
	if len(secret) < shortSecret {
		r.short[secret] = true
		return
	}
	if r.long[secret] {
		return
	}
	r.long[secret] = true
	key := secret[:shortSecret]
	l := r.lens[key]
	i := sort.Search(len(l), func(i int) bool { return l[i] <= len(secret) })
	if i == len(l) || l[i] != len(secret) {
		r.lens[key] = slices.Insert(l, i, len(secret))
	}
}

// Known reports whether secret is registered.
func (r *Redactor) Known(secret string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(secret) < shortSecret {
		return r.short[secret]
	}
	return r.long[secret]
}

// Redact returns s with every registered secret and every secret-shaped
// field masked.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	s = r.maskKnown(s)
	r.mu.RUnlock()
	if !mayHoldSecretShape(s) {
		return s
	}
	for _, re := range secretPatterns() {
		s = re.ReplaceAllString(s, "${1}"+Mask+"${3}")
	}
	return s
}

// maskKnown masks the registered secrets in s (r.mu held): a long one
// wherever it occurs, a short one where it is a token of its own (no
// letter, digit, '-' or '_' on either side).
func (r *Redactor) maskKnown(s string) string {
	if len(r.long) == 0 && len(r.short) == 0 {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is in b (once b is used)
	for i := 0; i < len(s); {
		if !r.first[s[i]] {
			i++
			continue
		}
		n := r.match(s, i)
		if n == 0 {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[done:i])
		b.WriteString(Mask)
		i += n
		done = i
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// match returns the length of the registered secret at s[i:], 0 for none.
func (r *Redactor) match(s string, i int) int {
	if i+shortSecret <= len(s) {
		for _, n := range r.lens[s[i:i+shortSecret]] {
			if i+n <= len(s) && r.long[s[i:i+n]] {
				return n
			}
		}
	}
	if len(r.short) == 0 || i > 0 && wordRuneBefore(s, i) {
		return 0
	}
	for n := min(shortSecret-1, len(s)-i); n > 0; n-- {
		if r.short[s[i:i+n]] && !wordRuneAt(s, i+n) {
			return n
		}
	}
	return 0
}

// wordRuneBefore and wordRuneAt report whether the rune that ends before
// i, or starts at i, continues a token: a letter, a digit, '-' or '_'
// (false at the ends of s).
func wordRuneBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i > 0 && isWordRune(r)
}

func wordRuneAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return i < len(s) && isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || r == '-' || r == '_'
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
