// Package docs holds dvp's documentation pages (the Markdown files of this
// directory, for people reading the repository) and gives the binary the same
// pages as help topics: `dvp help TOPIC` prints a page embedded here, so the
// text a binary-only user reads is the text of docs/ and cannot drift from it.
package docs

import (
	"embed"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed *.md tutorial/*.md
var pages embed.FS

// A Topic is a page of docs/ that `dvp help NAME` prints.
type Topic struct {
	Name    string // what follows `dvp help`
	File    string // the page in docs/
	Summary string // one line for the list of topics
}

// Topics are the help topics, in the order `dvp help` lists them. Names never
// equal a command's name (`dvp help build` is the build command's help).
var Topics = []Topic{
	{"settings", "settings.md", "engine address, user and password; flags, DVP_* and ~/.dvp/config; output, logs, completion"},
	{"exit-codes", "exit-codes.md", "what each exit code means; Ctrl-C and what it leaves"},
	{"project", "plugin-project.md", "the files of a plugin project, the pinned SDK, the typed operations"},
	{"validation", "validation.md", "what dvp validate checks in plugin_config.yml and schema.json"},
	{"codegen", "codegen.md", "the Go types generated from schema.json"},
	{"artifact", "build.md", "the dvp build pipeline and the artifact it writes"},
	{"sdk", "sdk.md", "the Go plugin SDK: operations, platform libraries, types, unit tests"},
	{"local-engine", "engine.md", "dvp engine serve: flags, storage, sandbox, mounts, limits"},
	{"workflows", "workflows.md", "how the local engine runs a plugin's workflows, hooks and policies"},
	{"uploading", "upload.md", "how dvp upload talks to an engine"},
	{"test-spec", "dvp-test.md", "dvp test and its dvptest.yml"},
	{"protocol", "runtime-protocol.md", "how an engine runs a plugin binary"},
	{"compatibility", "compatibility.md", "what dvp keeps from Delphix's Python dvp 5.0.1, and where it differs"},
	{"tutorial", "tutorial/", "building a first Go plugin, step by step: all the pages of the tutorial"},
	{"architecture", "architecture.md", "for maintainers: dvp's layers and packages, and how a command travels through them"},
	{"performance", "performance.md", "the benchmarks, what each measures and the limits dvp keeps"},
}

// Lookup returns the topic called name.
func Lookup(name string) (Topic, bool) {
	for _, t := range Topics {
		if t.Name == name {
			return t, true
		}
	}
	return Topic{}, false
}

// Names returns the topics' names, sorted.
func Names() []string {
	var n []string
	for _, t := range Topics {
		n = append(n, t.Name)
	}
	sort.Strings(n)
	return n
}

// Markdown returns the topic's page as written. A topic whose File ends in
// "/" is a folder of pages: its README.md, then its other pages in the
// order of their names.
func (t Topic) Markdown() (string, error) {
	if !strings.HasSuffix(t.File, "/") {
		b, err := pages.ReadFile(t.File)
		return string(b), err
	}
	files, err := t.Files()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, f := range files {
		page, err := pages.ReadFile(f)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.Write(page)
	}
	return b.String(), nil
}

// Files are the pages of the topic, in the order Markdown joins them.
func (t Topic) Files() ([]string, error) {
	if !strings.HasSuffix(t.File, "/") {
		return []string{t.File}, nil
	}
	entries, err := pages.ReadDir(strings.TrimSuffix(t.File, "/"))
	if err != nil {
		return nil, err
	}
	files := []string{t.File + "README.md"}
	for _, e := range entries {
		if e.Name() != "README.md" && strings.HasSuffix(e.Name(), ".md") {
			files = append(files, t.File+e.Name())
		}
	}
	return files, nil
}

// Text returns the topic's page for a terminal: headings underlined, code
// blocks indented, inline Markdown marks removed, and references to other
// pages of docs/ given as the `dvp help` command that prints them.
func (t Topic) Text() (string, error) {
	md, err := t.Markdown()
	if err != nil {
		return "", err
	}
	return renderTopic(md, t), nil
}

var inline = sync.OnceValues(func() (*regexp.Regexp, *regexp.Regexp) {
	return regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`), regexp.MustCompile(`(\*\*|__)(\S(?:.*?\S)?)(\*\*|__)`)
})

func render(md string) string { return renderTopic(md, Topic{}) }

// renderTopic renders md, a page of topic self: links to and mentions of
// other pages of docs/ become the dvp help command that prints them.
func renderTopic(md string, self Topic) string {
	var b strings.Builder
	inCode := false
	for _, line := range strings.Split(strings.TrimRight(md, "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			b.WriteString("    " + pageRefs(line) + "\n")
			continue
		}
		if level, title, ok := heading(line); ok {
			title = renderInline(title, self)
			b.WriteString(title + "\n")
			switch level {
			case 1:
				b.WriteString(strings.Repeat("=", len([]rune(title))) + "\n")
			case 2:
				b.WriteString(strings.Repeat("-", len([]rune(title))) + "\n")
			}
			continue
		}
		b.WriteString(renderInline(line, self) + "\n")
	}
	return b.String()
}

func heading(line string) (int, string, bool) {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n >= len(line) || line[n] != ' ' {
		return 0, "", false
	}
	return n, strings.TrimSpace(line[n:]), true
}

func renderInline(s string, self Topic) string {
	link, bold := inline()
	s = link.ReplaceAllStringFunc(s, func(m string) string {
		sub := link.FindStringSubmatch(m)
		return linkText(sub[1], sub[2], self)
	})
	s = bold.ReplaceAllString(s, "$2")
	s = strings.ReplaceAll(s, "`", "")
	return pageRefs(s)
}

// linkText is how a Markdown link [text](target) reads on a terminal: a
// link to a page of docs/ names the dvp help command that prints it, a
// link between the pages of one folder topic says "below".
func linkText(text, target string, self Topic) string {
	file, _, _ := strings.Cut(target, "#")
	file = strings.TrimPrefix(strings.TrimPrefix(file, "../"), "docs/")
	plain := strings.TrimPrefix(strings.ReplaceAll(text, "`", ""), "docs/")
	if strings.HasSuffix(self.File, "/") && !strings.Contains(file, "/") && strings.HasSuffix(file, ".md") {
		return text + " (below)"
	}
	for _, t := range Topics {
		if file == t.File || file+"/" == t.File || strings.HasSuffix(t.File, "/") && strings.HasPrefix(file, t.File) {
			if plain == file {
				return "dvp help " + t.Name
			}
			return text + " (dvp help " + t.Name + ")"
		}
	}
	return text + " (" + target + ")"
}

// pageRefs replaces the mentions of pages of docs/ (docs/settings.md,
// docs/tutorial/) by the dvp help command that prints them.
func pageRefs(s string) string {
	if !strings.Contains(s, "docs/") {
		return s
	}
	for _, t := range Topics {
		s = strings.ReplaceAll(s, "docs/"+t.File, "dvp help "+t.Name)
	}
	return s
}
