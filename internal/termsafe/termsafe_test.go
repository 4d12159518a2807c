package termsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "Plugin demo was successfully uploaded.", "Plugin demo was successfully uploaded."},
		{"newlines and tabs kept", "line 1\n\tline 2\n", "line 1\n\tline 2\n"},
		{"crlf", "a\r\nb", "a\nb"},
		{"lone cr overwrites", "failed\rdone   ", `failed\x0ddone   `},
		{"clear screen", "\x1b[2J\x1b[Hhello", `\x1b[2J\x1b[Hhello`},
		{"fake colour", "\x1b[32mCOMPLETED\x1b[0m", `\x1b[32mCOMPLETED\x1b[0m`},
		{"osc 52 clipboard", "\x1b]52;c;ZWNobyBwd25lZA==\x07", `\x1b]52;c;ZWNobyBwd25lZA==\x07`},
		{"osc 8 link with ST", "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", `\x1b]8;;http://evil\x1b\x\x1b]8;;\x1b\`},
		{"c1 csi and osc", "a\u009b2Jb\u009d0;t\u009c", `a\u009b2Jb\u009d0;t\u009c`},
		{"del and bell and nul", "a\x7fb\x07c\x00", `a\x7fb\x07c\x00`},
		{"backspace", "secret\b\b\b\b\b\bpublic", `secret\x08\x08\x08\x08\x08\x08public`},
		{"bidi override", "file\u202etxt.exe", `file\u202etxt.exe`},
		{"invalid utf-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"unicode kept", "Pässword ✓ 日本", "Pässword ✓ 日本"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := String(c.in)
			if got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
			}
			assertSafe(t, got)
		})
	}
}

func TestStrings(t *testing.T) {
	ss := Strings([]string{"ok", "\x1b[2J"})
	if ss[0] != "ok" || ss[1] != `\x1b[2J` {
		t.Errorf("%q", ss)
	}
}

// assertSafe fails when s holds a byte or character a terminal acts on.
func assertSafe(t testing.TB, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || unsafeRune(r) {
			t.Errorf("%q holds %U", s, r)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\x1b[2Jb", "\r\n\r", "\xff\u009b", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		assertSafe(t, got)
		if String(got) != got {
			t.Errorf("escaping %q twice changed it", s)
		}
		// Newlines and tabs are kept, one for one (a CRLF gives its LF).
		if strings.Count(got, "\n") != strings.Count(s, "\n") || strings.Count(got, "\t") != strings.Count(s, "\t") {
			t.Errorf("String(%q) = %q changed the newlines or tabs", s, got)
		}
	})
}

func TestJSON(t *testing.T) {
	in := []byte("{\"a\": \"x\u009b2J\u202e\x7fy\",\n  \"b\": \"\\u001b[2J\"}\n")
	got := JSON(in)
	want := "{\"a\": \"x\\u009b2J\\u202e\\u007fy\",\n  \"b\": \"\\u001b[2J\"}\n"
	if string(got) != want {
		t.Errorf("JSON(%q) = %q, want %q", in, got, want)
	}
	var a, b map[string]string
	if json.Unmarshal(in, &a) != nil || json.Unmarshal(got, &b) != nil || a["a"] != b["a"] || a["b"] != b["b"] {
		t.Errorf("the value changed: %q / %q", a, b)
	}
	plain := []byte(`{"a": "b"}`)
	if &JSON(plain)[0] != &plain[0] {
		t.Error("plain JSON was copied")
	}
}
