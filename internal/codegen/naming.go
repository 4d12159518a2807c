package codegen

import (
	"fmt"
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// initialisms are the words written in upper case in Go names: the list of
// staticcheck's ST1003 check (golint's list plus DB, TS, ...).
var initialisms = map[string]bool{
	"acl": true, "amqp": true, "api": true, "ascii": true, "cpu": true, "css": true, "db": true,
	"dns": true, "eof": true, "gid": true, "guid": true, "html": true, "http": true, "https": true,
	"id": true, "ip": true, "json": true, "qps": true, "ram": true, "rpc": true, "rtp": true,
	"sip": true, "sla": true, "smtp": true, "sql": true, "ssh": true, "tcp": true, "tls": true,
	"ts": true, "ttl": true, "udp": true, "ui": true, "uid": true, "uri": true, "url": true,
	"utf8": true, "uuid": true, "vm": true, "xml": true, "xmpp": true, "xsrf": true, "xss": true,
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// words splits a JSON name into words: at every character that is neither a
// letter nor a digit (the character is dropped), at a lower-case letter or
// digit followed by an upper-case letter (mountLocation, port2Name), and
// before the last letter of an upper-case run followed by a lower-case letter
// (HTTPServer), except for a plural initialism (IDs, URLs). A name without
// lower-case letters (MAX_VALUE, ID) is lower-cased first.
func words(s string) []string {
	hasLower := false
	for _, r := range s {
		if unicode.IsLower(r) {
			hasLower = true
			break
		}
	}
	if !hasLower {
		s = strings.ToLower(s)
	}
	rs := []rune(s)
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		if !isWordRune(r) {
			flush()
			continue
		}
		if len(cur) > 0 && unicode.IsUpper(r) {
			prev := cur[len(cur)-1]
			switch {
			case unicode.IsLower(prev) || unicode.IsDigit(prev):
				flush()
			case unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
				plural := rs[i+1] == 's' && (i+2 == len(rs) || !unicode.IsLower(rs[i+2])) &&
					initialisms[strings.ToLower(string(cur)+string(r))]
				if !plural {
					flush()
				}
			}
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// caseWord writes one word the Go way: an initialism in upper case (id ->
// ID, and ids -> IDs), anything else with its first letter upper-cased and
// the rest as written.
func caseWord(w string) string {
	lw := strings.ToLower(w)
	if initialisms[lw] {
		return strings.ToUpper(w)
	}
	if len(lw) > 2 && strings.HasSuffix(lw, "s") && initialisms[lw[:len(lw)-1]] {
		return strings.ToUpper(w[:len(w)-1]) + "s"
	}
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[n:]
}

// joinWords is the exported-style concatenation of the words of s, or "".
func joinWords(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		b.WriteString(caseWord(w))
	}
	return b.String()
}

func hexName(s string) string { return strings.ToUpper(fmt.Sprintf("%x", s)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// goName maps a JSON property name to an exported Go identifier. The direct
// mapping (joinWords) never contains an underscore; the escapes below all
// do, so an escaped name never collides with a direct one. note is empty for
// a direct mapping and otherwise says why the name could not map directly
// (it becomes a warning).
//
//	""                       -> X_Empty
//	no letter or digit ($)   -> X_<hex of the UTF-8 bytes> (X_24)
//	leading digit (2fast)    -> X_2fast
//	first letter without an upper case (名前) -> X_名前
//	other non-ASCII (größe)  -> Größe, with a warning
func goName(jsonName string) (name, note string) {
	joined := joinWords(jsonName)
	switch {
	case jsonName == "":
		return "X_Empty", "the name is empty"
	case joined == "":
		return "X_" + hexName(jsonName), "the name has no letter or digit"
	}
	first, _ := utf8.DecodeRuneInString(joined)
	switch {
	case unicode.IsDigit(first):
		return "X_" + joined, "the name starts with a digit"
	case !unicode.IsUpper(first):
		return "X_" + joined, "the name starts with a letter that has no upper case"
	case !isASCII(jsonName):
		return joined, "the name has non-ASCII characters"
	}
	return joined, ""
}

// segment maps a JSON name to the piece of a type name it contributes
// (appended to an exported prefix, so a leading digit is fine).
func segment(jsonName string) string {
	if s := joinWords(jsonName); s != "" {
		return s
	}
	if jsonName == "" {
		return "Empty"
	}
	return "X" + hexName(jsonName)
}

// enumConstWord maps an enum value to the suffix of its constant name.
func enumConstWord(v any) string {
	switch v := v.(type) {
	case string:
		if s := joinWords(v); s != "" {
			return s
		}
		if v == "" {
			return "Empty"
		}
		return "_" + hexName(v)
	case int64:
		if v < 0 {
			return "Minus" + strconv.FormatInt(-v, 10)
		}
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		s = strings.NewReplacer("-", "Minus", ".", "_", "+", "").Replace(s)
		return s
	}
	return "Value"
}

// namespace hands out unique identifiers: a taken name gets the suffix _2,
// _3, ... (the first free one).
type namespace struct {
	used map[string]bool
}

func newNamespace(reserved ...string) *namespace {
	ns := &namespace{used: map[string]bool{}}
	for _, r := range reserved {
		ns.used[r] = true
	}
	return ns
}

// take returns name, or name_N when name is taken, and whether it had to
// rename.
func (ns *namespace) take(name string) (string, bool) {
	if !ns.used[name] {
		ns.used[name] = true
		return name, false
	}
	for i := 2; ; i++ {
		n := name + "_" + strconv.Itoa(i)
		if !ns.used[n] {
			ns.used[n] = true
			return n, true
		}
	}
}

// isIdentifier reports whether s is a valid Go identifier (not a keyword).
func isIdentifier(s string) bool { return token.IsIdentifier(s) }

// validTagName reports whether encoding/json accepts s as the name in a
// `json:"..."` struct tag (the rule of encoding/json's isValidTag).
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// snake turns a definition key into a file name stem: linkedSourceDefinition
// -> linked_source_definition.
func snake(s string) string {
	var parts []string
	for _, w := range words(s) {
		parts = append(parts, strings.ToLower(w))
	}
	return strings.Join(parts, "_")
}
