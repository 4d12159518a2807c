package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/types"
)

// ErrChannelClosed is returned by library calls pending when the engine closes
// the channel.
var ErrChannelClosed = errors.New("the engine closed the plugin's channel")

// drainTimeout bounds how long Serve waits, once the engine has closed the
// channel, for running operations to notice their cancelled context.
const drainTimeout = 5 * time.Second

// Serve speaks the protocol with an engine on in/out until in ends, the engine
// sends shutdown, or a fatal protocol error (returned). Main calls it in
// serve mode; tests and embedders may call it directly. Operations run in
// their own goroutines, so several calls may be in flight.
func Serve(ctx context.Context, p *Plugin, in io.Reader, out io.Writer) error {
	r := protocol.NewReader(in, protocol.MaxFrame)
	w := protocol.NewWriter(out, protocol.MaxPluginMessage)

	hello, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil // nobody to serve
		}
		return fmt.Errorf("reading the engine's hello: %w", err)
	}
	if hello.Type != protocol.TypeHello {
		msg := fmt.Sprintf("the first message must be hello, not %q", hello.Type)
		_ = w.Write(&protocol.Message{Type: protocol.TypeError, Error: &protocol.ErrorBody{Kind: protocol.KindProtocol, Message: msg}})
		return errors.New(msg)
	}
	if !slices.Contains(hello.Versions, protocol.Version) {
		msg := fmt.Sprintf("this plugin speaks protocol version %d; the engine offered %v", protocol.Version, hello.Versions)
		_ = w.Write(&protocol.Message{Type: protocol.TypeError, Error: &protocol.ErrorBody{Kind: protocol.KindProtocol, Message: msg}})
		return errors.New(msg)
	}
	if problems := p.Problems(); len(problems) > 0 {
		msg := joinProblems(problems)
		body := &protocol.ErrorBody{Kind: protocol.KindInvalidPlugin, Message: msg}
		body.Truncate(protocol.MaxErrorPayload)
		_ = w.Write(&protocol.Message{Type: protocol.TypeError, Error: body})
		return errors.New(msg)
	}
	if err := w.Write(&protocol.Message{
		Type: protocol.TypeHello, Version: protocol.Version, SDKVersion: sdk.Version,
		PluginType: p.Type, Operations: p.implemented(),
	}); err != nil {
		return fmt.Errorf("writing hello: %w", err)
	}

	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	s := &session{
		plugin:  p,
		w:       w,
		pending: map[string]chan *protocol.Message{},
		calls:   map[string]context.CancelCauseFunc{},
		closed:  make(chan struct{}),
	}
	engine.SetDefault(s.caller(""))
	defer engine.SetDefault(nil)

	err = s.loop(ctx, r)
	close(s.closed)
	stop(ErrChannelClosed)
	s.mu.Lock()
	for _, cancel := range s.calls {
		cancel(ErrChannelClosed)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
	}
	return err
}

type session struct {
	plugin  *Plugin
	w       *protocol.Writer
	nextReq atomic.Uint64
	running sync.WaitGroup
	closed  chan struct{}

	mu      sync.Mutex
	pending map[string]chan *protocol.Message  // library request id -> response
	calls   map[string]context.CancelCauseFunc // running call id -> cancel
}

func (s *session) loop(ctx context.Context, r *protocol.Reader) error {
	for {
		m, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			// The message is lost, and with it maybe a response a library
			// call waits for: give up rather than hang.
			msg := "the plugin could not read a message from the engine: " + err.Error()
			_ = s.w.Write(&protocol.Message{Type: protocol.TypeError, Error: &protocol.ErrorBody{Kind: protocol.KindProtocol, Message: msg}})
			return errors.New(msg)
		}
		switch m.Type {
		case protocol.TypeCall:
			s.startCall(ctx, m)
		case protocol.TypeCancel:
			s.mu.Lock()
			cancel := s.calls[m.ID]
			s.mu.Unlock()
			if cancel != nil {
				reason := m.Reason
				if reason == "" {
					reason = "cancelled by the engine"
				}
				cancel(errors.New(reason))
			}
		case protocol.TypeResponse:
			s.mu.Lock()
			ch := s.pending[m.ID]
			delete(s.pending, m.ID)
			s.mu.Unlock()
			if ch != nil {
				ch <- m // buffered; a response to an abandoned request is dropped
			}
		case protocol.TypeShutdown:
			return nil
		default:
			s.fail(m.ID, protocol.KindProtocol, fmt.Sprintf("the plugin does not accept %q messages after the handshake", m.Type))
		}
	}
}

func (s *session) fail(id, kind, msg string) {
	body := &protocol.ErrorBody{Kind: kind, Message: msg}
	body.Truncate(protocol.MaxErrorPayload)
	_ = s.w.Write(&protocol.Message{Type: protocol.TypeError, ID: id, Error: body})
}

func (s *session) startCall(parent context.Context, m *protocol.Message) {
	if m.ID == "" {
		s.fail("", protocol.KindProtocol, "a call has no id")
		return
	}
	ctx, cancel := context.WithCancelCause(parent)
	if m.TimeoutMS > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, time.Duration(m.TimeoutMS)*time.Millisecond,
			fmt.Errorf("the operation's %s timeout passed", time.Duration(m.TimeoutMS)*time.Millisecond))
		inner := cancel
		cancel = func(err error) { inner(err); stop() }
	}
	s.mu.Lock()
	if _, dup := s.calls[m.ID]; dup {
		s.mu.Unlock()
		cancel(nil)
		s.fail(m.ID, protocol.KindProtocol, fmt.Sprintf("a call with id %q is already running", m.ID))
		return
	}
	s.calls[m.ID] = cancel
	s.running.Add(1)
	s.mu.Unlock()

	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.calls, m.ID)
			s.mu.Unlock()
			cancel(nil)
			s.running.Done()
		}()
		ctx := engine.With(ctx, s.caller(m.ID))
		out, body := answer(ctx, s.plugin, m.Operation, m.Input)
		// A write fails only when the engine is gone; nothing is left to tell.
		if body != nil {
			body.Truncate(protocol.MaxErrorPayload)
			_ = s.w.Write(&protocol.Message{Type: protocol.TypeError, ID: m.ID, Error: body})
		} else {
			_ = s.w.Write(&protocol.Message{Type: protocol.TypeResult, ID: m.ID, Output: out})
		}
	}()
}

// invoke runs one operation and returns its encoded output or an error body.
// It never panics and always returns, unless the operation never returns.
func invoke(ctx context.Context, p *Plugin, op string, input json.RawMessage) (out json.RawMessage, body *protocol.ErrorBody) {
	if len(input) > protocol.MaxOperationPayload {
		return nil, &protocol.ErrorBody{Kind: protocol.KindTooLarge, Message: fmt.Sprintf(
			"The input of the %s() operation is %d bytes, over the %d-byte (4 MiB) limit for operation inputs.",
			op, len(input), protocol.MaxOperationPayload)}
	}
	var handler Handler
	var spec protocol.OperationSpec
	if op == protocol.OperationUpgrade {
		handler = p.upgrade
	} else {
		var known bool
		spec, known = protocol.LookupOperation(op)
		if !known {
			return nil, &protocol.ErrorBody{Kind: protocol.KindUnknownOperation, Message: fmt.Sprintf("'%s' is not a plugin operation.", op)}
		}
		handler = p.Operations[op]
		if handler == nil || !spec.Supports(p.Type) {
			return nil, &protocol.ErrorBody{Kind: protocol.KindNotImplemented, Message: fmt.Sprintf("An implementation for the %s() operation has not been defined.", op)}
		}
	}

	output, body, err := runHandler(ctx, op, handler, input)
	if body != nil {
		return nil, body
	}
	if err != nil {
		return nil, errorBody(ctx, op, err)
	}
	if op == protocol.OperationUpgrade {
		b, err := json.Marshal(output)
		if err != nil {
			return nil, &protocol.ErrorBody{Kind: protocol.KindBadOutput, Message: "The upgrade result cannot be encoded: " + err.Error()}
		}
		if len(b) > protocol.MaxOperationPayload {
			return nil, tooLargeOutput(op, len(b))
		}
		return b, nil
	}
	return encodeOutput(op, spec, p.Type, output)
}

// runHandler calls h, turning a panic into an error body.
func runHandler(ctx context.Context, op string, h Handler, input json.RawMessage) (output any, body *protocol.ErrorBody, err error) {
	defer func() {
		if v := recover(); v != nil {
			body = &protocol.ErrorBody{Kind: protocol.KindPanic,
				Message: fmt.Sprintf("The plugin panicked in the %s() operation: %v", op, v),
				Output:  string(debug.Stack())}
		}
	}()
	output, err = h(ctx, input)
	return output, nil, err
}

// errorBody classifies an error returned by an operation.
func errorBody(ctx context.Context, op string, err error) *protocol.ErrorBody {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Cause(ctx)) || errors.Is(err, ErrChannelClosed)) {
		return &protocol.ErrorBody{Kind: protocol.KindCancelled,
			Message: fmt.Sprintf("The %s() operation was cancelled: %v.", op, context.Cause(ctx))}
	}
	var ue *sdk.UserError
	if errors.As(err, &ue) && ue != nil {
		return &protocol.ErrorBody{Kind: protocol.KindUser, Message: ue.Message, Action: ue.Action, Output: ue.Output}
	}
	var uv sdk.UserError
	if errors.As(err, &uv) {
		return &protocol.ErrorBody{Kind: protocol.KindUser, Message: uv.Message, Action: uv.Action, Output: uv.Output}
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return &protocol.ErrorBody{Kind: protocol.KindBadInput, Message: fmt.Sprintf("The input of the %s() operation is invalid: %s", op, ie.Message)}
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return &protocol.ErrorBody{Kind: ke.kind, Message: ke.msg}
	}
	return &protocol.ErrorBody{Kind: protocol.KindPlugin, Message: err.Error()}
}

// kindError is an error the runtime raises with a specific kind.
type kindError struct {
	kind, msg string
}

func (e *kindError) Error() string { return e.msg }

func tooLargeOutput(op string, n int) *protocol.ErrorBody {
	return &protocol.ErrorBody{Kind: protocol.KindTooLarge, Message: fmt.Sprintf(
		"The output of the %s() operation is %d bytes, over the %d-byte (4 MiB) limit for operation outputs.",
		op, n, protocol.MaxOperationPayload)}
}

// caller returns the engine.Caller for library requests of one call ("" for
// requests outside any call, such as logs from background goroutines).
func (s *session) caller(callID string) engine.Caller { return &callCaller{s: s, call: callID} }

type callCaller struct {
	s    *session
	call string
}

// Call sends a library request and waits for the response, the context's
// end, or the end of the session.
func (c *callCaller) Call(ctx context.Context, method string, params, result any) error {
	s := c.s
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encoding the arguments of %s: %w", method, err)
	}
	id := "r" + strconv.FormatUint(s.nextReq.Add(1), 10)
	ch := make(chan *protocol.Message, 1)
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return ErrChannelClosed
	default:
	}
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	if err := s.w.Write(&protocol.Message{Type: protocol.TypeRequest, ID: id, Call: c.call, Method: method, Params: raw}); err != nil {
		var tooLarge *protocol.FrameTooLargeError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("the arguments of %s are too large: a library request is limited to %d bytes (8 MiB)", method, protocol.MaxPluginMessage)
		}
		return fmt.Errorf("sending %s to the engine: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if result != nil && len(m.Result) > 0 && string(m.Result) != "null" {
			if err := types.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("the engine's answer to %s cannot be decoded: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.closed:
		return ErrChannelClosed
	}
}
