package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every topic is a page of this directory, embedded whole: the binary's
// help is the repository's documentation, byte for byte.
func TestTopicsAreTheDocsPages(t *testing.T) {
	seen := map[string]bool{}
	for _, tp := range Topics {
		if seen[tp.Name] {
			t.Errorf("topic %q listed twice", tp.Name)
		}
		seen[tp.Name] = true
		md, err := tp.Markdown()
		if err != nil {
			t.Fatalf("topic %s: %v", tp.Name, err)
		}
		files, err := tp.Files()
		if err != nil {
			t.Fatalf("topic %s: %v", tp.Name, err)
		}
		var onDisk []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("topic %s: %v", tp.Name, err)
			}
			onDisk = append(onDisk, string(b))
		}
		if md != strings.Join(onDisk, "\n") {
			t.Errorf("topic %s differs from %s", tp.Name, tp.File)
		}
		text, err := tp.Text()
		if err != nil || strings.TrimSpace(text) == "" {
			t.Errorf("topic %s renders to nothing (%v)", tp.Name, err)
		}
	}
}

func TestRender(t *testing.T) {
	md := "# Title\n\nSome `code`, **bold**, a [link](https://x.invalid) and docs/settings.md.\n\n## Part\n\n```sh\ndvp build\n```\n### Small\n#notaheading\n"
	want := "Title\n=====\n\nSome code, bold, a link (https://x.invalid) and dvp help settings.\n\nPart\n----\n\n    dvp build\nSmall\n#notaheading\n"
	if got := render(md); got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
}

// Every page of docs/ is a topic, and no topic sends a binary-only user to
// a file of docs/ they do not have: mentions and links of pages read as
// the dvp help command that prints them.
func TestTopicsStandAlone(t *testing.T) {
	covered := map[string]bool{}
	for _, tp := range Topics {
		files, err := tp.Files()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			covered[f] = true
		}
	}
	for _, glob := range []string{"*.md", "tutorial/*.md"} {
		matches, _ := filepath.Glob(glob)
		for _, m := range matches {
			if !covered[filepath.ToSlash(m)] {
				t.Errorf("docs/%s is no help topic", m)
			}
		}
	}
	page := regexp.MustCompile(`docs/[\w./-]*\.md|\([\w./-]+\.md(#[\w-]*)?\)|docs/tutorial/`)
	for _, tp := range Topics {
		text, err := tp.Text()
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(text, "\n") {
			if m := page.FindString(line); m != "" {
				t.Errorf("dvp help %s, line %d mentions %s: %s", tp.Name, i+1, m, line)
			}
		}
	}
}

func TestRenderLinks(t *testing.T) {
	for _, tc := range []struct{ md, want string }{
		{"see [engine.md](engine.md).", "see dvp help local-engine.\n"},
		{"see [the engine](engine.md#mounts).", "see the engine (dvp help local-engine).\n"},
		{"see [docs/settings.md](../docs/settings.md)", "see dvp help settings\n"},
		{"```\n  x   (docs/build.md)\n```", "      x   (dvp help artifact)\n"},
		{"the [tutorial](tutorial/README.md), docs/tutorial/", "the tutorial (dvp help tutorial), dvp help tutorial\n"},
	} {
		if got := render(tc.md); got != tc.want {
			t.Errorf("render(%q) = %q, want %q", tc.md, got, tc.want)
		}
	}
	tut, _ := Lookup("tutorial")
	if got := renderTopic("1. [Initial setup](1-setup.md)", tut); got != "1. Initial setup (below)\n" {
		t.Errorf("a link between tutorial pages: %q", got)
	}
}
