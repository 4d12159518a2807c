package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/dvpkit/dvp/sdk/libs"
)

// DefaultLibraryMemory is the memory the engine holds at once for the
// library calls of all plugins together, unless configured otherwise
// (dvp engine serve --max-library-memory); one plugin process may hold at
// most half of it (docs/runtime-protocol.md, "Limits").
const DefaultLibraryMemory = 1 << 30

// Costs, in bytes held per byte, of what a library call keeps while it
// runs: a request is kept as its line's bytes and as decoded values
// (requestCost); the output of a command as it is read (bytes.Buffer
// capacity of up to twice what it holds) and as the result's strings,
// counted per byte of JSON it becomes (outputCost). A result is written to
// the plugin as it is encoded, not held again (writeRunResult).
const (
	requestCost = 2
	outputCost  = 3
	// outputChunk is how much output is charged at a time.
	outputChunk = 1 << 20
)

// MemoryBudget bounds the bytes held at once by the library calls charged
// to it: those of one plugin process, or of all plugins of an engine. It
// is safe for concurrent use.
type MemoryBudget struct {
	limit int64
	// whose says whose calls share it, in refusals: "of one plugin
	// process", "of all plugins".
	whose string

	mu   sync.Mutex
	used int64
}

// NewMemoryBudget returns a budget of limit bytes shared by the library
// calls of all plugins of an engine (Options.Memory); limit <= 0 is
// DefaultLibraryMemory.
func NewMemoryBudget(limit int64) *MemoryBudget {
	if limit <= 0 {
		limit = DefaultLibraryMemory
	}
	return &MemoryBudget{limit: limit, whose: "of all plugins"}
}

// Limit returns the budget's size in bytes.
func (b *MemoryBudget) Limit() int64 { return b.limit }

// Used returns the bytes charged now.
func (b *MemoryBudget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

func (b *MemoryBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *MemoryBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// memoryRefusal is the library error of a call that would take a budget
// over its limit.
func memoryRefusal(method string, b *MemoryBudget, n int64) error {
	return &libs.LibraryError{ID: LibErrTooLarge, Message: fmt.Sprintf(
		"The library call %s was refused: it needs %s more of the engine's memory, and the library calls %s running at once already hold %s of the %s the engine allows them (dvp engine serve --max-library-memory; a plugin process may use half of it). Make fewer library calls at once, or print less (write large output to a file).",
		method, mib(n), b.whose, mib(b.Used()), mib(b.limit))}
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
	return fmt.Sprintf("%d MiB", (n+1<<20-1)>>20)
}

// charge is what one library call holds of its budgets.
type charge struct {
	method  string
	budgets []*MemoryBudget

	mu   sync.Mutex
	held int64
}

// grow takes n more bytes from every budget, or from none (the error says
// which budget refused); a negative n gives -n back.
func (c *charge) grow(n int64) error {
	if c == nil || n == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 0 {
		n = max(n, -c.held)
		for _, b := range c.budgets {
			if b != nil {
				b.give(-n)
			}
		}
		c.held += n
		return nil
	}
	for i, b := range c.budgets {
		if b == nil {
			continue
		}
		if !b.take(n) {
			for _, taken := range c.budgets[:i] {
				if taken != nil {
					taken.give(n)
				}
			}
			return memoryRefusal(c.method, b, n)
		}
	}
	c.held += n
	return nil
}

// release gives back everything the call holds.
func (c *charge) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.budgets {
		if b != nil {
			b.give(c.held)
		}
	}
	c.held = 0
}

type chargeKey struct{}

// MemoryCharge returns the function with which the command output kept
// for the library call of ctx is charged to its plugin's and the engine's
// memory budgets (OutputBuffer.Charge), or nil outside a library call.
func MemoryCharge(ctx context.Context) func(n int) error {
	c, _ := ctx.Value(chargeKey{}).(*charge)
	if c == nil {
		return nil
	}
	return func(n int) error { return c.grow(int64(n) * outputCost) }
}

// respondRun answers a run_bash, run_expect or run_powershell request
// with res, encoding it as it is written: its output (up to twice
// MaxCommandOutput) is not held a second time as JSON.
func (p *process) respondRun(id string, res libs.RunResult) {
	idJSON, _ := json.Marshal(id)
	head := `{"type":"response","id":` + string(idJSON) + `,"result":{"exit_code":` + strconv.Itoa(res.ExitCode) + `,"stdout":"`
	const mid, tail = `","stderr":"`, `"}}`
	size := len(head) + jsonStringLen(res.Stdout) + len(mid) + jsonStringLen(res.Stderr) + len(tail)
	p.tooLarge(id, p.w.WriteStream(size, func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if err := writeJSONString(w, res.Stdout); err != nil {
			return err
		}
		if _, err := io.WriteString(w, mid); err != nil {
			return err
		}
		if err := writeJSONString(w, res.Stderr); err != nil {
			return err
		}
		_, err := io.WriteString(w, tail)
		return err
	}))
}

// jsonStringLen is the length of s's JSON text without its quotes, as
// writeJSONString writes it: jsonTextLen's count, where each byte of an
// incomplete UTF-8 sequence at the end becomes \ufffd (6 bytes).
func jsonStringLen(s string) int {
	n, rest := jsonTextLen(s)
	return n + 6*len(rest)
}

// writeJSONString writes s as the inside of a JSON string, escaped as
// encoding/json escapes it (an invalid UTF-8 byte becomes \ufffd), so
// that its length is jsonTextLen's count.
func writeJSONString(w io.Writer, s string) error {
	const hex = "0123456789abcdef"
	var buf []byte
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for i := 0; i < len(s); {
		if len(buf) > 32<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, `\u202`...)
			buf = append(buf, hex[r&0xf])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return flush()
}
