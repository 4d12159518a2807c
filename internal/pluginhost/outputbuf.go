package pluginhost

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/dvpkit/dvp/sdk/libs"
)

// MaxCommandOutput bounds what a command run for a plugin (RunBash,
// RunExpect, RunPowershell, locally or over SSH) may print on each of
// stdout and stderr, measured as the JSON text the result becomes on its way
// to the plugin: both together stay well inside the runtime protocol's
// message limit, so output is refused while it is read, never after it was
// held and encoded (64 MiB of NUL bytes would be 384 MiB of JSON).
const MaxCommandOutput = 64 << 20

// OutputBuffer keeps what a process prints, up to Max bytes, and notes an
// overflow; writes never fail, so the process runs on and its exit status is
// kept. With JSON set, bytes are counted as the JSON text they become (a
// printable ASCII byte counts 1, a control character, '<', '>' or '&' 6, '"'
// and '\' 2, a UTF-8 sequence its length, an invalid byte 6: what
// encoding/json writes for it) and nothing is kept past an overflow;
// without, bytes count as themselves and the first Max are kept.
type OutputBuffer struct {
	Max  int
	JSON bool
	// Charge, when set (MemoryCharge), is asked for the JSON bytes about
	// to be kept, a chunk at a time; when it refuses, what was kept is
	// dropped and given back (Charge of a negative count), nothing more is
	// kept, and Err says why.
	Charge   func(n int) error
	buf      bytes.Buffer
	jsonLen  int
	charged  int
	carry    []byte // an incomplete UTF-8 sequence at the end of the last write
	overflow bool
	refusal  error
}

// Overflow reports whether the command printed more than Max.
func (o *OutputBuffer) Overflow() bool { return o.overflow }

// String returns what was kept.
func (o *OutputBuffer) String() string { return o.buf.String() }

// Bytes returns what was kept.
func (o *OutputBuffer) Bytes() []byte { return o.buf.Bytes() }

// Len returns the number of bytes kept.
func (o *OutputBuffer) Len() int { return o.buf.Len() }

// Write keeps b while the JSON size stays within Max.
func (o *OutputBuffer) Write(b []byte) (int, error) {
	if o.overflow {
		return len(b), nil
	}
	if !o.JSON {
		if room := o.Max - o.buf.Len(); room < len(b) {
			o.overflow = true
			o.buf.Write(b[:max(room, 0)])
			return len(b), nil
		}
		return o.buf.Write(b)
	}
	p := b
	if len(o.carry) > 0 {
		p = append(append([]byte(nil), o.carry...), b...)
		o.carry = o.carry[:0]
	}
	n, rest := jsonTextLen(p)
	if o.jsonLen+n > o.Max {
		o.overflow = true
		return len(b), nil
	}
	if o.Charge != nil && o.jsonLen+n > o.charged {
		more := max(o.jsonLen+n-o.charged, min(outputChunk, o.Max-o.charged))
		if err := o.Charge(more); err != nil {
			o.overflow, o.refusal = true, err
			o.buf = bytes.Buffer{}
			_ = o.Charge(-o.charged)
			o.charged = 0
			return len(b), nil
		}
		o.charged += more
	}
	o.jsonLen += n
	o.carry = append(o.carry, rest...)
	o.buf.Write(b)
	return len(b), nil
}

// ReadFrom reads r to its end through Write (the ReadFrom of an embedded
// bytes.Buffer, which io.Copy, os/exec and x/crypto/ssh use, would not stop
// at Max).
func (o *OutputBuffer) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		m, err := r.Read(buf)
		if m > 0 {
			o.Write(buf[:m])
			n += int64(m)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// jsonTextLen returns how many bytes encoding/json writes for p inside a
// string, and the incomplete UTF-8 sequence p ends with (not counted). It
// takes a string or bytes so that neither is copied to be counted.
func jsonTextLen[T string | []byte](p T) (n int, rest T) {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		// At most utf8.UTFMax bytes are converted: no copy of p.
		head := []byte(p[i:min(i+utf8.UTFMax, len(p))])
		if !utf8.FullRune(head) {
			return n, p[i:]
		}
		r, size := utf8.DecodeRune(head)
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n, p[len(p):]
}

// Err returns why the output was not kept whole, or nil: the refusal of
// its memory charge, else OutputTooLarge(Max).
func (o *OutputBuffer) Err() error {
	switch {
	case o.refusal != nil:
		return o.refusal
	case o.overflow:
		return OutputTooLarge(o.Max)
	}
	return nil
}

// OutputErr returns the first error of the buffers (Err), or nil.
func OutputErr(bufs ...*OutputBuffer) error {
	for _, o := range bufs {
		if err := o.Err(); err != nil {
			return err
		}
	}
	return nil
}

// OutputTooLarge is the library error of a command that printed more than
// max (counted as JSON text).
func OutputTooLarge(max int) error {
	return &libs.LibraryError{ID: LibErrTooLarge, Message: fmt.Sprintf(
		"The command printed more than %d MiB on stdout or stderr (counted as the JSON text of its result, where a control character takes 6 bytes): write large output to a file instead.", max>>20)}
}
