package docs_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dvpkit/dvp/internal/cli"
)

// TestMain lets the test binary be dvp: run as "dvp" (a link made by a
// test), it runs the command line as the real binary does.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "dvp" {
		os.Exit(cli.Main(os.Args[1:], "0.1.0-test"))
	}
	os.Exit(m.Run())
}

// A block is a fenced code block of a Markdown page.
type block struct {
	page     string
	line     int    // of the opening fence
	lang     string // the first word of the info string
	file     string // file=PATH: the block is the whole file PATH
	merge    string // merge=PATH: top-level JSON members to put into PATH
	settings bool   // "sh settings": the reader's own values
	body     string
}

func (b block) String() string { return fmt.Sprintf("%s:%d (```%s)", b.page, b.line, b.lang) }

var fence = regexp.MustCompile("^( *)```(.*)$")

// readBlocks returns the fenced blocks of a page, their indentation removed
// (the grammar scripts/tutorial.sh follows).
func readBlocks(t *testing.T, page string) []block {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	indent := ""
	for i, line := range strings.Split(string(data), "\n") {
		m := fence.FindStringSubmatch(line)
		if cur == nil {
			if m == nil {
				continue
			}
			indent = m[1]
			words := strings.Fields(m[2])
			cur = &block{page: page, line: i + 1}
			for j, w := range words {
				switch {
				case j == 0:
					cur.lang = w
				case strings.HasPrefix(w, "file="):
					cur.file = strings.TrimPrefix(w, "file=")
				case strings.HasPrefix(w, "merge="):
					cur.merge = strings.TrimPrefix(w, "merge=")
				case w == "settings":
					cur.settings = true
				}
			}
			continue
		}
		if m != nil && strings.TrimSpace(m[2]) == "" {
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		cur.body += strings.TrimPrefix(line, indent) + "\n"
	}
	if cur != nil {
		t.Fatalf("%s: the block opened there is not closed", cur)
	}
	return blocks
}

// shellLines returns the logical lines of a shell block: continuation
// lines joined, comments and blank lines left out.
func shellLines(body string) []string {
	var out []string
	cont := ""
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := cont + sc.Text()
		cont = ""
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\")
			continue
		}
		if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, s)
		}
	}
	if cont != "" {
		out = append(out, strings.TrimSpace(cont))
	}
	return out
}

// simpleCommands splits a shell line into its simple commands (at &&, ||,
// ;, |, &, parentheses and $( ), redirections and comments left out) and
// each into its words, quotes removed. Variables stay as written.
func simpleCommands(line string) [][]string {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				word.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			i++
			word.WriteByte(line[i])
			inWord = true
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			endCmd()
			i++
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case c == ' ' || c == '\t':
			endWord()
		case c == '>' || c == '<':
			if inWord && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset() // a file descriptor: 2>&1
				inWord = false
			}
			endWord()
			for i+1 < len(line) && (line[i+1] == '>' || line[i+1] == '&' || line[i+1] == '1' || line[i+1] == '2') {
				i++
			}
			// the redirection's target is the next word: drop it
			for i+1 < len(line) && line[i+1] == ' ' {
				i++
			}
			j := i + 1
			for j < len(line) && !strings.ContainsRune(" \t;&|)", rune(line[j])) {
				j++
			}
			i = j - 1
		case strings.IndexByte(";&|()", c) >= 0:
			if c == '&' && i > 0 && line[i-1] == '>' {
				continue
			}
			endCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// dvpCommands returns the dvp command lines of a shell line: the words
// after "dvp", for each simple command that runs dvp (after assignments).
func dvpCommands(line string) [][]string {
	var out [][]string
	for _, words := range simpleCommands(line) {
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) > 0 && words[0] == "dvp" {
			out = append(out, words[1:])
		}
	}
	return out
}

func newRoot() *cobra.Command {
	return cli.NewRootCmd(&cli.App{IO: cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getwd: os.Getwd}})
}

var placeholder = regexp.MustCompile(`^([A-Z][A-Z0-9_|@.-]*|\.\.\.|\[.*|<.*|\$.*|".*)$`)

// checkDvp says what is wrong with a documented dvp command line: a command
// or a flag that does not exist. "" when nothing is.
// In prose (strict false), a word that is not a command is taken for
// text (dvp's own messages are quoted too) unless it is close to a command's
// name: a misspelt command.
func checkDvp(root *cobra.Command, args []string, strict bool) string {
	if len(args) == 0 {
		return ""
	}
	if args[0] == "help" {
		return ""
	}
	cmd, rest, err := root.Find(args)
	if err != nil {
		// (Commands are lowercase: "dvp Go plugin SDK" is text.)
		if !strict && (args[0][0] < 'a' || args[0][0] > 'z' || len(suggestions(root, args[0])) == 0) {
			return ""
		}
		return err.Error()
	}
	// Find stops at the first word that is not a subcommand: a lowercase
	// word there, where subcommands are expected, is a misspelt command.
	if cmd.HasAvailableSubCommands() && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if a := rest[0]; !placeholder.MatchString(a) && (strict || len(suggestions(cmd, a)) > 0) {
			return fmt.Sprintf("%q is not a command of %q", a, cmd.CommandPath())
		}
	}
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.AddFlagSet(cmd.Flags())
	fs.AddFlagSet(cmd.InheritedFlags())
	err = fs.Parse(rest)
	if err == nil || errors.Is(err, pflag.ErrHelp) || strings.Contains(err.Error(), "needs an argument") {
		return ""
	}
	// A variable or a placeholder as the value of a typed flag (--port P).
	if m := invalidValue.FindStringSubmatch(err.Error()); m != nil && placeholder.MatchString(m[1]) {
		return ""
	}
	return fmt.Sprintf("%s: %v", cmd.CommandPath(), err)
}

// suggestions are the subcommands of c whose names are close to word.
func suggestions(c *cobra.Command, word string) []string {
	c.SuggestionsMinimumDistance = 2
	return c.SuggestionsFor(word)
}

var invalidValue = regexp.MustCompile(`invalid argument "([^"]*)"`)

// proseCommand makes an inline synopsis a command line: optional parts'
// brackets go, and alternatives (a\|b, --a/--b) become separate words.
func proseCommand(s string) string {
	s = strings.NewReplacer(`\|`, " ", "[", " ", "]", " ", "/--", " --").Replace(s)
	return s
}

// docPages are the pages users read: docs/, its tutorial and the README.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, _ := filepath.Glob("*.md")
	tut, _ := filepath.Glob(filepath.Join("tutorial", "*.md"))
	pages = append(pages, tut...)
	pages = append(pages, filepath.Join("..", "README.md"))
	sort.Strings(pages)
	return pages
}

var codeSpan = regexp.MustCompile("`(dvp [^`]+)`")

// pythonOnly says the line is about Delphix's Python dvp, whose commands
// and flags dvp does not all have.
var pythonOnly = regexp.MustCompile(`(?i)python|dvp 5\.0|\bPy\b`)

// Every dvp command line of the documentation — in shell blocks and in
// inline code — names commands and flags the binary has.
func TestDocumentedCommandsExist(t *testing.T) {
	root := newRoot()
	checked := 0
	for _, page := range docPages(t) {
		for _, b := range readBlocks(t, page) {
			if b.lang == "" || b.lang == "text" {
				// synopses (dvp build [-c FILE] ...) and output
				for _, line := range shellLines(b.body) {
					if strings.HasPrefix(line, "dvp ") {
						for _, args := range dvpCommands(proseCommand(line)) {
							checked++
							if msg := checkDvp(root, args, false); msg != "" {
								t.Errorf("%s: %s: %s", b, line, msg)
							}
						}
					}
				}
				continue
			}
			if b.lang != "sh" && b.lang != "console" && b.lang != "shell" && b.lang != "bash" {
				continue
			}
			for _, line := range shellLines(b.body) {
				line = strings.TrimPrefix(line, "$ ")
				for _, args := range dvpCommands(line) {
					checked++
					if msg := checkDvp(root, args, true); msg != "" {
						t.Errorf("%s: dvp %s: %s", b, strings.Join(args, " "), msg)
					}
				}
			}
		}
		data, _ := os.ReadFile(page)
		inFence := false
		for i, line := range strings.Split(string(data), "\n") {
			if fence.MatchString(line) {
				inFence = !inFence
				continue
			}
			if inFence || pythonOnly.MatchString(line) {
				continue
			}
			for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
				for _, args := range dvpCommands(proseCommand(m[1])) {
					checked++
					if msg := checkDvp(root, args, false); msg != "" {
						t.Errorf("%s:%d: `%s`: %s", page, i+1, m[1], msg)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d dvp command lines found in the documentation: the parser is broken", checked)
	}
}

// Every flag of every command is in the documentation.
func TestEveryFlagIsDocumented(t *testing.T) {
	var text strings.Builder
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
	}
	all := text.String()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "completion" || c.Name() == "help" {
			return
		}
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			if !strings.Contains(all, "--"+f.Name) {
				t.Errorf("%s --%s is not in the documentation (docs/*.md, README.md)", c.CommandPath(), f.Name)
			}
		})
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Name != "help" && !strings.Contains(all, "--"+f.Name) {
				t.Errorf("%s --%s is not in the documentation (docs/*.md, README.md)", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

func TestSimpleCommands(t *testing.T) {
	got := fmt.Sprint(simpleCommands(`SNAPSHOT=$(dvp snapshot list ds1 | tail -n 1 | cut -f1) && dvp x --params "{\"a\": \"$B\"}" >"$T/log" 2>&1 & # done`))
	want := `[[SNAPSHOT=] [dvp snapshot list ds1] [tail -n 1] [cut -f1] [dvp x --params {"a": "$B"}]]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The check finds what it is for: misspelt commands and flags, in blocks
// and in prose; and lets dvp's quoted messages and placeholders be.
func TestCheckDvp(t *testing.T) {
	root := newRoot()
	for _, c := range []struct {
		line   string
		strict bool
		bad    bool
	}{
		{`dvp upload --wait`, true, false},
		{`dvp upload --wiat`, true, true},
		{`dvp enviroment list`, true, true},
		{`dvp enviroment list`, false, true},
		{`dvp environment lst`, false, true},
		{`dvp environment add source --host "$U@$H" --port "$SOURCE_PORT" --ssh-key "$K"`, true, false},
		{`dvp environment add source --port many`, true, true},
		{`dvp engine listening on URL (data in DIR)`, false, false},
		{`dvp dsource enable\|disable\|status\|delete NAME`, false, false},
		{`dvp environment update NAME --host/--port/--ssh-usr`, false, true},
		{`dvp vdb refresh [--snapshot SNAP]`, false, false},
		{`dvp vdb refresh [--snapshots SNAP]`, false, true},
		{`dvp help settings`, true, false},
		{`dvp --version`, true, false},
	} {
		line := c.line
		if !c.strict {
			line = proseCommand(line)
		}
		var msgs []string
		for _, args := range dvpCommands(line) {
			if msg := checkDvp(root, args, c.strict); msg != "" {
				msgs = append(msgs, msg)
			}
		}
		if bad := len(msgs) > 0; bad != c.bad {
			t.Errorf("%s (strict %v): problems %q; want a problem: %v", c.line, c.strict, msgs, c.bad)
		}
	}
}

var flagRow = regexp.MustCompile("^\\| `--([a-z0-9-]+)[^`]*`(?:, `--[^`]*`)* \\| (`[^`]*`|none|off) \\|")

// The defaults in docs/engine.md's table of dvp engine serve's flags are
// the command's.
func TestEngineFlagDefaults(t *testing.T) {
	root := newRoot()
	serve, _, err := root.Find([]string{"engine", "serve"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("engine.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for i, line := range strings.Split(string(data), "\n") {
		m := flagRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := serve.Flags().Lookup(m[1])
		if f == nil {
			t.Errorf("engine.md:%d: dvp engine serve has no --%s", i+1, m[1])
			continue
		}
		rows++
		doc, def := strings.Trim(m[2], "`"), f.DefValue
		var same bool
		switch {
		case doc == "none":
			same = def == "" || def == "[]"
		case doc == "off":
			same = def == "false"
		case f.Value.Type() == "duration":
			d1, err1 := time.ParseDuration(doc)
			d2, err2 := time.ParseDuration(def)
			same = err1 == nil && err2 == nil && d1 == d2
		default:
			same = doc == def
		}
		if def == "" && strings.Contains(f.Usage, "(default "+doc+")") {
			same = true // a default the help names (--data-dir: ~/.dvp/engine)
		}
		if !same {
			t.Errorf("engine.md:%d: --%s defaults to %q, the page says %s", i+1, m[1], def, m[2])
		}
	}
	if rows < 15 {
		t.Fatalf("only %d flag rows found in engine.md", rows)
	}
}
