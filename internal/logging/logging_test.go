package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestConsoleLevel(t *testing.T) {
	// dvp 5.0.1 (docs/compatibility.md, The command line): (0,0) WARNING, -v INFO, -vv DEBUG, -vvv everything,
	// -q ERROR, -qq CRITICAL, -qqq nothing.
	cases := []struct {
		v, q       int
		shown, not slog.Level
	}{
		{0, 0, slog.LevelWarn, slog.LevelInfo},
		{1, 0, slog.LevelInfo, slog.LevelDebug},
		{2, 0, slog.LevelDebug, slog.LevelDebug - 1},
		{3, 0, slog.LevelDebug - 4, slog.LevelDebug - 5},
		{0, 1, slog.LevelError, slog.LevelWarn},
		{0, 2, LevelCritical, slog.LevelError},
		{0, 3, LevelCritical + 4, LevelCritical},
	}
	for _, c := range cases {
		l := ConsoleLevel(c.v, c.q)
		if c.shown < l || c.not >= l {
			t.Errorf("v=%d q=%d: level %v should show %v and hide %v", c.v, c.q, l, c.shown, c.not)
		}
	}
}

func TestConsoleAndFile(t *testing.T) {
	var console, file bytes.Buffer
	log := New(Options{Console: &console, ConsoleLevel: ConsoleLevel(0, 0), DebugLog: &file})
	log.Debug("only in file")
	log.Warn("everywhere")
	if got := console.String(); got != "everywhere\n" {
		t.Errorf("console = %q", got)
	}
	lines := strings.Split(strings.TrimSpace(file.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("file has %d lines: %q", len(lines), file.String())
	}
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG   |WARNING ) \[logging_test.go:\d+\] (only in file|everywhere)$`)
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("file line %q does not have dvp's format", l)
		}
	}
}

func TestRedaction(t *testing.T) {
	var console, file bytes.Buffer
	red := NewRedactor()
	red.Add("s3cr3t-pw")
	log := New(Options{Console: &console, ConsoleLevel: ConsoleLevel(3, 0), DebugLog: &file, Redactor: red})
	log.Info("login with s3cr3t-pw")
	log.Debug("request", "body", `{"type": "LoginRequest", "username": "admin", "password": "other-pw"}`)
	log.Debug("response headers", "set-cookie", "JSESSIONID=ABCDEF0123; Path=/resources; HttpOnly")
	log.Debug("config", "line", "password = inifilepw")
	for name, out := range map[string]string{"console": console.String(), "file": file.String()} {
		for _, secret := range []string{"s3cr3t-pw", "other-pw", "ABCDEF0123", "inifilepw"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output leaks %q:\n%s", name, secret, out)
			}
		}
		if !strings.Contains(out, `"username": "admin"`) {
			t.Errorf("%s output lost non-secret data:\n%s", name, out)
		}
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "debug.log")
	r, err := OpenRotating(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(r, "%02d %s\n", i, strings.Repeat("x", 40))
	}
	r.Close()
	for _, name := range []string{"debug.log", "debug.log.1", "debug.log.2"} {
		st, err := os.Stat(filepath.Join(dir, "logs", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Size() > 100 {
			t.Errorf("%s is %d bytes, over the limit", name, st.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more backups than configured")
	}
	last, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(last), "08 ") {
		t.Errorf("current file should start with the 9th line, got %q", last)
	}
}

func TestShortSecretsMaskedAsWords(t *testing.T) {
	red := NewRedactor()
	red.Add("x")
	red.Add("pw12")
	got := red.Redact("delphix said x and pw12, not pw123; password: is the word")
	want := "delphix said ****** and ******, not pw123; password: is the word"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
