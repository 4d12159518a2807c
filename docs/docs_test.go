package docs

import (
	"os"
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
		onDisk, err := os.ReadFile(tp.File)
		if err != nil {
			t.Fatalf("topic %s: %v", tp.Name, err)
		}
		if md != string(onDisk) {
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
