// Package msgtest holds the helpers of the table-driven corpus tests of
// internal/config and internal/schema: a txtar reader (the archive format
// of golang.org/x/tools/txtar, which is not a dependency of this module),
// the "want" section format, and the memory bound of a hostile input's
// parse (ParseBounded).
package msgtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
)

// Expectation is one line of a test corpus "want" section:
//
//	<severity> <line>:<col> <pointer or -> <message substring>
//
// e.g. "error 3:1 /srcDir 'srcDir' is a required property". It is used by
// the corpus tests of internal/config and internal/schema.
type Expectation struct {
	Severity  diag.Severity
	Line, Col int
	Pointer   string
	Substring string
}

// ParseWant parses a want section: the first non-comment line is "valid"
// or "invalid", the others are expectations. Lines starting with # are
// comments.
func ParseWant(text string) (valid bool, exps []Expectation, err error) {
	first := true
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if first {
			first = false
			switch line {
			case "valid":
				valid = true
			case "invalid":
			default:
				return false, nil, fmt.Errorf("want must start with valid or invalid, got %q", line)
			}
			continue
		}
		f := strings.SplitN(line, " ", 4)
		if len(f) < 4 {
			return false, nil, fmt.Errorf("bad expectation %q", line)
		}
		var e Expectation
		switch f[0] {
		case "error":
			e.Severity = diag.Error
		case "warning":
			e.Severity = diag.Warning
		default:
			return false, nil, fmt.Errorf("bad severity in %q", line)
		}
		l, c, ok := strings.Cut(f[1], ":")
		if e.Line, err = strconv.Atoi(l); err != nil || !ok {
			return false, nil, fmt.Errorf("bad position in %q", line)
		}
		if e.Col, err = strconv.Atoi(c); err != nil {
			return false, nil, fmt.Errorf("bad position in %q", line)
		}
		if f[2] != "-" {
			e.Pointer = f[2]
		}
		e.Substring = f[3]
		exps = append(exps, e)
	}
	if first {
		return false, nil, fmt.Errorf("empty want section")
	}
	return valid, exps, nil
}

// Match checks problems against a verdict and expectations: the verdict
// must agree with HasErrors, every expectation must match a distinct
// problem (same severity, position, pointer, message containing the
// substring) and no problem may be left unmatched. It returns what differs.
func Match(probs diag.List, valid bool, exps []Expectation) []string {
	var diffs []string
	if valid == probs.HasErrors() {
		diffs = append(diffs, fmt.Sprintf("verdict: want valid=%v, got %d errors", valid, probs.Count(diag.Error)))
	}
	used := make([]bool, len(probs))
	for _, e := range exps {
		found := false
		for i, p := range probs {
			if used[i] || p.Severity != e.Severity || p.Line != e.Line || p.Column != e.Col ||
				(e.Pointer != "" && p.Pointer != e.Pointer) || !strings.Contains(p.Message, e.Substring) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("missing: %s %d:%d %s %q", e.Severity, e.Line, e.Col, e.Pointer, e.Substring))
		}
	}
	for i, p := range probs {
		if !used[i] {
			diffs = append(diffs, fmt.Sprintf("unexpected: %s %d:%d %s %s", p.Severity, p.Line, p.Column, orDash(p.Pointer), p.Message))
		}
	}
	return diffs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// File is one file of an archive.
type File struct {
	Name string
	Data []byte
}

// ParseArchive reads a txtar archive: an optional comment, then files,
// each introduced by a line "-- name --". File data keeps its bytes
// (including non-UTF-8 ones) and ends with the newline before the next
// marker.
func ParseArchive(data []byte) (comment []byte, files []File) {
	var cur *File
	rest := data
	start := 0
	flush := func(end int) {
		if cur == nil {
			comment = data[start:end]
		} else {
			cur.Data = data[start:end]
			files = append(files, *cur)
		}
	}
	off := 0
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		t := strings.TrimRight(string(line), "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush(off)
			cur = &File{Name: strings.TrimSpace(t[3 : len(t)-3])}
			start = off + len(line)
		}
		off += len(line)
		rest = rest[len(line):]
	}
	flush(off)
	return comment, files
}

// Dump prints problems one per line (with their JSON pointers), for test
// failure messages.
func Dump(l diag.List) string {
	var b strings.Builder
	for _, p := range l {
		b.WriteString("  ")
		b.WriteString(strings.ReplaceAll(p.String(), "\n", "\n  "))
		b.WriteString(" {" + p.Pointer + "}\n")
	}
	return b.String()
}

// EachCase runs run as a subtest for every txtar archive matching pattern
// (named after the file), and fails when there are fewer than min.
func EachCase(t *testing.T, pattern string, min int, run func(t *testing.T, name string, files []File)) {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < min {
		t.Fatalf("%s: %d cases, want at least %d", pattern, len(paths), min)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, files := ParseArchive(raw)
			run(t, name, files)
		})
	}
}

// ParseBounded runs parse on data, a hostile file, and fails t when parse
// panics or allocates more than 1 KiB per byte of data it may read (a
// file over maxFileSize bytes is not read past its limit), plus 16 MiB:
// the tests bound the work, not the time. It returns parse's problems.
func ParseBounded(t *testing.T, data []byte, maxFileSize int, parse func([]byte) diag.List) diag.List {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var probs diag.List
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic: %v", r)
			}
		}()
		probs = parse(data)
	}()
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if budget := uint64(min(len(data), maxFileSize+1))<<10 + 16<<20; alloc > budget {
		t.Errorf("allocated %d bytes for %d bytes of input; budget %d", alloc, len(data), budget)
	}
	return probs
}
