package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// citation is a reference to a section of a page of docs/ as code comments
// and pages write it: docs/engine.md, "Sandbox" (the quoted part may wrap
// onto a comment's next line).
var citation = regexp.MustCompile(`(docs/[a-z0-9/-]+\.md),\s*(?:(?://|#)\s*)?"([^"]+)"`)

var (
	numbering = regexp.MustCompile(`^\d+(\.\d+)*\.?\s+`)
	runIn     = regexp.MustCompile(`\*\*([^*]+?)\.?\*\*`)
	wrap      = regexp.MustCompile(`\s*\n\s*(?://|#)?\s*`)
)

// sections returns what a citation of page may name: its headings (without
// their Markdown and numbering) and its bold run-in headings
// ("**The upgrade guard.** Every upload ...").
func sections(t *testing.T, page string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(page)))
	if err != nil {
		return nil
	}
	var out []string
	fence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence {
			continue
		}
		if strings.HasPrefix(line, "#") {
			h := strings.TrimSpace(strings.TrimLeft(line, "#"))
			h = numbering.ReplaceAllString(h, "")
			out = append(out, strings.ReplaceAll(h, "`", ""))
		}
		for _, m := range runIn.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// cites reports whether name names one of the sections: the whole of one,
// or its beginning up to a comma ("The operations the engine calls on its
// own" for "The operations the engine calls on its own, against a Delphix
// Engine").
func cites(name string, secs []string) bool {
	name = strings.ReplaceAll(name, "`", "")
	for _, s := range secs {
		if s == name || strings.HasPrefix(s, name+",") || strings.HasPrefix(s, name+":") {
			return true
		}
	}
	return false
}

// Every citation of a section of a docs/ page, in the code and the pages,
// names a section the page has: a renamed heading leaves no reader looking
// for what is not there.
func TestCitedSectionsExist(t *testing.T) {
	root := ".."
	cache := map[string][]string{}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "third_party" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		for _, m := range citation.FindAllStringSubmatchIndex(text, -1) {
			page := text[m[2]:m[3]]
			name := wrap.ReplaceAllString(text[m[4]:m[5]], " ")
			secs, ok := cache[page]
			if !ok {
				secs = sections(t, page)
				cache[page] = secs
			}
			checked++
			if !cites(name, secs) {
				rel, _ := filepath.Rel(root, path)
				line := strings.Count(text[:m[0]], "\n") + 1
				t.Errorf("%s:%d cites %s, %q: the page has no such section", filepath.ToSlash(rel), line, page, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d citations found: the search is broken", checked)
	}
}

// outside are ways of citing what is not in the repository: the team's
// working papers, another tool's reference by section number, an issue
// tracker's numbers, the working lanes of a development round. Code and
// pages cite docs/ pages of this repository instead.
var outside = regexp.MustCompile(`(?i)\b(?:design|helpers|developers)\.md\b|dvp-reference|shared/docs|\breference (?:§|section )?\d+\.\d+|\bissues? #?\d+\b|\blanes?\b`)

// docPage is a path of a docs/ page as code and pages write it.
var docPage = regexp.MustCompile(`\bdocs/[a-z0-9/_-]+\.md\b`)

// Code, pages, scripts and the Makefile cite only what the repository
// holds: no working paper, issue or reference outside it, and every
// docs/ page they name exists.
func TestCitesOnlyTheRepository(t *testing.T) {
	root := ".."
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "third_party" || (strings.HasPrefix(n, ".") && path != root && n != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".txtar":
		default:
			if d.Name() != "Makefile" && !strings.HasPrefix(filepath.ToSlash(path), "../.ci/") {
				return nil
			}
		}
		if filepath.Base(path) == "citations_test.go" {
			return nil // its patterns
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(data), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d cites %q, which is not in the repository: cite a docs/ page", filepath.ToSlash(rel), i+1, m)
			}
			for _, page := range docPage.FindAllString(line, -1) {
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(page))); err != nil {
					t.Errorf("%s:%d names %s, which does not exist", filepath.ToSlash(rel), i+1, page)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 300 {
		t.Fatalf("only %d files read: the walk is broken", files)
	}
}
