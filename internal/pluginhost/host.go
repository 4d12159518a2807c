// Package pluginhost is the engine side of the plugin runtime contract: it
// starts a plugin binary in serve mode, performs the handshake, runs
// operations with Call, and answers the plugin's platform-library requests
// through a Libraries implementation. See docs/runtime-protocol.md.
package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Options configure a Host.
type Options struct {
	// Binary is the plugin executable.
	Binary string
	// Args are the plugin's arguments; default: protocol.ServeFlag.
	Args []string
	// Env is the plugin's environment; nil is the host's passed through
	// sandbox.Env's allow-list (never a DVP_* variable).
	Env []string
	// Dir is the plugin's working directory; "" is the host's.
	Dir string
	// Sandbox isolates the plugin process with Policy (docs/engine.md,
	// "Sandbox"); nil runs it without isolation, in its own process group.
	Sandbox *sandbox.Sandbox
	Policy  sandbox.Policy
	// Libraries answers library requests. Required.
	Libraries Libraries
	// Stderr receives what the plugin writes to stderr (and to stdout:
	// the SDK redirects it there); nil discards it. The end of it is
	// kept anyway for crash reports.
	Stderr io.Writer
	// StartTimeout bounds start-up and handshake; default 10s.
	StartTimeout time.Duration
	// CancelGrace is how long a cancelled call may take to acknowledge the
	// cancellation before the process is killed; default 2s.
	CancelGrace time.Duration
	// Memory bounds the memory the library calls of all plugins sharing it
	// hold at once (requests, command output); a plugin process may hold
	// half of it. Nil: a budget of DefaultLibraryMemory for this Host.
	Memory *MemoryBudget
}

// Host runs the operations of one plugin binary. It keeps one plugin process
// and runs one call at a time (Call is safe for concurrent use and
// serializes); use several Hosts for parallelism. A process that crashes,
// breaks the protocol or misses a deadline is killed and replaced by a fresh
// one at the next Call.
type Host struct {
	opts Options

	mu     sync.Mutex // held for the whole of a Call
	proc   *process
	seq    uint64
	closed bool
}

// New returns a Host; the process starts at the first Call.
func New(opts Options) (*Host, error) {
	if opts.Binary == "" {
		return nil, errors.New("pluginhost: no plugin binary")
	}
	if opts.Libraries == nil {
		return nil, errors.New("pluginhost: no Libraries")
	}
	if opts.Args == nil {
		opts.Args = []string{protocol.ServeFlag}
	}
	if opts.Env == nil {
		opts.Env = sandbox.Env(nil, "")
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 10 * time.Second
	}
	if opts.CancelGrace <= 0 {
		opts.CancelGrace = 2 * time.Second
	}
	if opts.Memory == nil {
		opts.Memory = NewMemoryBudget(0)
	}
	return &Host{opts: opts}, nil
}

// Call runs an operation with the given input (a json.RawMessage is sent as
// is; any other value is encoded to JSON) and returns the operation's output.
// A failure is a *PluginError. The context bounds the call: when it ends,
// the plugin is asked to cancel and is killed if it has not answered within
// CancelGrace.
func (h *Host) Call(ctx context.Context, operation string, input any) (json.RawMessage, error) {
	raw, err := encodeInput(input)
	if err != nil {
		return nil, newPluginError(KindBadInput, operation, "The input cannot be encoded to JSON: "+err.Error(), "", err)
	}
	if len(raw) > protocol.MaxOperationPayload {
		return nil, newPluginError(KindTooLarge, operation, fmt.Sprintf(
			"The input of the %s() operation is %d bytes, over the %d-byte (4 MiB) limit for operation inputs.",
			operation, len(raw), protocol.MaxOperationPayload), "", nil)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, newPluginError(KindStart, operation, "The plugin host is closed.", "", nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(ctx, operation, "before it started", nil)
	}
	p, perr := h.process(ctx)
	if perr != nil {
		perr.Operation = operation
		return nil, perr
	}
	h.seq++
	return p.call(ctx, "c"+strconv.FormatUint(h.seq, 10), operation, raw)
}

// PID returns the process id of the current plugin process, or 0.
func (h *Host) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil || h.proc.exited() {
		return 0
	}
	return h.proc.cmd.Process.Pid
}

// Close asks the plugin to shut down, kills it if it does not within a few
// seconds, and makes later Calls fail.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.proc != nil {
		h.proc.shutdown(3 * time.Second)
		h.proc = nil
	}
	return nil
}

func (h *Host) process(ctx context.Context) (*process, *PluginError) {
	if h.proc != nil && !h.proc.exited() {
		return h.proc, nil
	}
	h.proc = nil
	p, err := start(ctx, h.opts)
	if err != nil {
		return nil, err
	}
	h.proc = p
	return p, nil
}

func encodeInput(input any) (json.RawMessage, error) {
	if raw, ok := input.(json.RawMessage); ok {
		if !json.Valid(raw) {
			return nil, errors.New("the input is not valid JSON")
		}
		return raw, nil
	}
	return json.Marshal(input)
}

// ctxError describes a call ended by its context.
func ctxError(ctx context.Context, op, how string, err error) *PluginError {
	kind, what, cause := KindCancelled, "was cancelled", context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || ctx.Err() == nil && pastDeadline(ctx) {
		kind, what = KindTimeout, "did not finish before its deadline"
		if cause == nil {
			cause = context.DeadlineExceeded
		}
	}
	return newPluginError(kind, op, fmt.Sprintf("The %s() operation %s (%v) %s.", op, what, cause, how), "", err)
}
