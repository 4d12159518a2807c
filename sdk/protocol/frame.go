package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Framing: every message is one line of compact JSON terminated by "\n".
// encoding/json never emits a raw newline (control characters inside strings
// are escaped and json.RawMessage values are compacted), so a newline always
// ends a message.

// FrameTooLargeError is returned for a line longer than the reader's limit.
// The reader has skipped the rest of that line, so the next Read returns the
// next message.
type FrameTooLargeError struct {
	Limit int
}

// Error gives the frame size and the limit.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("a message is longer than the %d-byte limit", e.Limit)
}

// MalformedError is returned for a line that is not a JSON object with a
// "type". Line holds the start of the line, for diagnostics.
type MalformedError struct {
	Line []byte
	Err  error
}

// Error says what is malformed.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("a line is not a protocol message (%v): %q", e.Err, e.Line)
}

// Unwrap returns the decoding error.
func (e *MalformedError) Unwrap() error { return e.Err }

// Reader reads messages, one per line, each at most max bytes.
type Reader struct {
	br  *bufio.Reader
	max int
}

// NewReader returns a reader with the given limit (MaxFrame when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = MaxFrame
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// ReadLine returns the next non-empty line without its newline. At the end
// of the input it returns io.EOF, or io.ErrUnexpectedEOF when the input ends
// inside a line.
func (r *Reader) ReadLine() ([]byte, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return line, nil
	}
}

func (r *Reader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(buf)+len(chunk) > r.max+1 {
			// Too long: drop it up to the next newline.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, &FrameTooLargeError{Limit: r.max}
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Read returns the next message.
func (r *Reader) Read() (*Message, error) {
	line, err := r.ReadLine()
	if err != nil {
		return nil, err
	}
	return Decode(line)
}

// Decode parses one line.
func Decode(line []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, &MalformedError{Line: head(line), Err: err}
	}
	if m.Type == "" {
		return nil, &MalformedError{Line: head(line), Err: errors.New(`no "type"`)}
	}
	return &m, nil
}

func head(b []byte) []byte {
	if len(b) > 200 {
		return append([]byte(nil), b[:200]...)
	}
	return append([]byte(nil), b...)
}

// Writer writes messages, one per line; it is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	max int
}

// NewWriter returns a writer refusing messages over max bytes (MaxFrame when
// max <= 0).
func NewWriter(w io.Writer, max int) *Writer {
	if max <= 0 {
		max = MaxFrame
	}
	return &Writer{w: w, max: max}
}

// Write encodes and writes m. A message over the limit is not written and
// yields a *FrameTooLargeError.
func (w *Writer) Write(m *Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > w.max {
		return &FrameTooLargeError{Limit: w.max}
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.w.Write(b)
	return err
}

// WriteStream writes one message of size bytes that encode writes (one
// JSON object without a raw newline; the newline is added), without
// holding it whole: for large results. A size over the limit is not
// written and yields a *FrameTooLargeError.
func (w *Writer) WriteStream(size int, encode func(io.Writer) error) error {
	if size > w.max {
		return &FrameTooLargeError{Limit: w.max}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	bw := bufio.NewWriterSize(w.w, 64<<10)
	if err := encode(bw); err != nil {
		return err
	}
	if err := bw.WriteByte('\n'); err != nil {
		return err
	}
	return bw.Flush()
}
