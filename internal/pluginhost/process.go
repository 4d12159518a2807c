package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"encoding/json"

	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

const (
	// textBusyTries bounds the starts of an executable that another
	// process still holds open for writing (ETXTBSY), about 0.3 s in all.
	textBusyTries  = 25
	stderrTailSize = 64 << 10
	exitGrace      = time.Second // after the plugin closes stdout, before killing it
)

// MaxLibraryCalls bounds the library calls (run_bash, run_sync, ...) of
// one plugin process that run at once; one more is refused at once with a
// library error that says so (docs/runtime-protocol.md, limits). Each call
// on a local environment starts a sandbox of its own, with its own process
// and memory limits: without this bound a plugin that made a thousand calls
// at once had the engine run a thousand sandboxes, and hold every request
// (up to a frame each) while they ran.
const MaxLibraryCalls = 16

// maxLogsInFlight bounds the log requests being written at once; the next
// one waits (the plugin's output is not read meanwhile).
const maxLogsInFlight = 16

// waitTextBusy waits before the try-th start again of an executable that was
// busy (a variable for tests).
var waitTextBusy = func(try int) { time.Sleep(time.Duration(try) * time.Millisecond) }

// process is one running plugin.
type process struct {
	opts   Options
	cmd    *exec.Cmd
	kill   context.CancelFunc // kills the process group
	unbox  func()             // releases the sandbox once the process ended
	stdin  io.WriteCloser
	w      *protocol.Writer
	stderr *tailWriter
	hello  chan *protocol.Message
	done   chan struct{} // closed once the process has exited and been waited for

	handshaken atomic.Bool
	waitErr    error // valid after done

	calls chan struct{} // a slot per library call running (MaxLibraryCalls)
	logs  chan struct{} // a slot per log request being written
	// memory bounds what this process's library calls hold at once, and
	// opts.Memory what those of all plugins hold.
	memory *MemoryBudget

	mu        sync.Mutex
	cur       *callState
	violation error  // protocol violation that made the host kill the process
	killedFor string // why the host killed the process, if it did
}

type callState struct {
	id, op string
	ctx    context.Context
	answer chan *protocol.Message
	reqs   sync.WaitGroup
}

func start(ctx context.Context, opts Options) (*process, *PluginError) {
	p, pr, perr := launch(opts)
	for try := 1; perr != nil && errors.Is(perr.Err, syscall.ETXTBSY) && try < textBusyTries; try++ {
		// The executable was written a moment ago and a process forked
		// meanwhile (by this engine, for another plugin) still holds the
		// written file open until it execs: wait a little for it.
		waitTextBusy(try)
		p, pr, perr = launch(opts)
	}
	if perr != nil {
		return nil, perr
	}
	p.w = protocol.NewWriter(p.stdin, protocol.MaxFrame)
	go p.readLoop(pr)

	timer := time.NewTimer(opts.StartTimeout)
	defer timer.Stop()
	fail := func(msg string, err error) *PluginError {
		p.killWith("the handshake failed")
		<-p.done
		return newPluginError(KindStart, "", msg, p.stderr.String(), err)
	}
	if err := p.w.Write(&protocol.Message{Type: protocol.TypeHello, Versions: []int{protocol.Version}}); err != nil {
		select {
		case <-p.done:
			return nil, newPluginError(KindStart, "", fmt.Sprintf("The plugin exited before the handshake (%v).", p.exitStatus()), p.stderr.String(), p.waitErr)
		case <-time.After(exitGrace):
			return nil, fail("The plugin does not read its input: "+err.Error(), err)
		}
	}
	select {
	case m := <-p.hello:
		if m.Type == protocol.TypeError {
			msg := "The plugin refused the handshake."
			kind := KindStart
			if m.Error != nil {
				msg = m.Error.Message
				if m.Error.Kind == protocol.KindInvalidPlugin {
					kind = KindInvalidPlugin
				}
			}
			perr := fail(msg, nil)
			perr.Kind = kind
			return nil, perr
		}
		if m.Version != protocol.Version {
			return nil, fail(fmt.Sprintf("The plugin chose protocol version %d; this engine speaks version %d.", m.Version, protocol.Version), nil)
		}
		return p, nil
	case <-p.done:
		return nil, newPluginError(KindStart, "", fmt.Sprintf("The plugin exited before the handshake (%v).", p.exitStatus()), p.stderr.String(), p.waitErr)
	case <-timer.C:
		return nil, fail(fmt.Sprintf("The plugin did not answer the handshake within %s.", opts.StartTimeout), nil)
	case <-ctx.Done():
		return nil, fail("The call was cancelled while the plugin was starting.", ctx.Err())
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) exitStatus() string {
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

func (p *process) killWith(reason string) {
	p.mu.Lock()
	if p.killedFor == "" {
		p.killedFor = reason
	}
	p.mu.Unlock()
	p.kill()
}

func (p *process) violate(err error) {
	p.mu.Lock()
	if p.violation == nil {
		p.violation = err
	}
	p.mu.Unlock()
	p.killWith("it broke the protocol")
}

// readLoop reads the plugin's messages until its output ends, then reaps the
// process.
func (p *process) readLoop(out *os.File) {
	defer out.Close()
	r := protocol.NewReader(out, protocol.MaxPluginMessage)
	for {
		line, err := r.ReadLine()
		if err != nil {
			var tooLarge *protocol.FrameTooLargeError
			switch {
			case errors.As(err, &tooLarge):
				p.violate(fmt.Errorf("the plugin sent a message longer than the %d-byte (8 MiB) limit of a plugin's messages", protocol.MaxPluginMessage))
			case !errors.Is(err, io.EOF):
				p.violate(fmt.Errorf("reading the plugin's output: %w", err))
			}
			break
		}
		m, err := protocol.Decode(line)
		if err != nil {
			if !p.handshaken.Load() {
				// Output printed before the runtime took over stdout
				// (by init code, say) is tolerated, and kept as stderr.
				fmt.Fprintf(p.stderr, "[stdout before handshake] %s\n", line)
				continue
			}
			p.violate(err)
			break
		}
		if !p.handle(m, len(line)) {
			break
		}
	}
	waited := make(chan struct{})
	go func() {
		p.waitErr = p.cmd.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(exitGrace):
		p.killWith("it closed its output but did not exit")
		<-waited
	}
	p.kill() // release the context
	p.unbox()
	close(p.done)
}

// handle routes one message, a line of size bytes; false stops reading.
func (p *process) handle(m *protocol.Message, size int) bool {
	if !p.handshaken.Load() {
		if m.Type != protocol.TypeHello && m.Type != protocol.TypeError {
			p.violate(fmt.Errorf("the plugin sent %q before its hello", m.Type))
			return false
		}
		if m.Type == protocol.TypeHello {
			p.handshaken.Store(true)
		}
		select {
		case p.hello <- m:
		default:
		}
		return true
	}
	switch m.Type {
	case protocol.TypeRequest:
		p.serveRequest(m, size)
		return true
	case protocol.TypeResult, protocol.TypeError:
		p.mu.Lock()
		cs := p.cur
		if cs != nil && m.ID == cs.id {
			p.cur = nil // one answer per call
		}
		p.mu.Unlock()
		if cs != nil && m.ID == cs.id {
			cs.answer <- m
			return true
		}
		if m.Type == protocol.TypeError && m.ID == "" && m.Error != nil {
			p.violate(fmt.Errorf("the plugin reported a fatal error: %s", m.Error.Message))
			return false
		}
		p.violate(fmt.Errorf("the plugin answered a call %q that is not running", m.ID))
		return false
	}
	p.violate(fmt.Errorf("the plugin sent an unexpected %q message", m.Type))
	return false
}

// serveRequest runs a library request (a line of size bytes) in a
// goroutine of its own, holding a slot and a charge of the memory budgets
// until its response is written.
func (p *process) serveRequest(m *protocol.Message, size int) {
	ctx := context.WithValue(context.Background(), callInfoKey{}, CallInfo{})
	op := ""
	// The call's WaitGroup is incremented under p.mu while the call is
	// current, so that it happens before the call's final Wait.
	p.mu.Lock()
	cs := p.cur
	if cs != nil && (m.Call == cs.id || m.Method == protocol.MethodLog) {
		ctx, op = cs.ctx, cs.op
		cs.reqs.Add(1)
	} else {
		cs = nil
	}
	p.mu.Unlock()
	if cs == nil && m.Method != protocol.MethodLog {
		p.respond(m.ID, nil, libBody(LibErrNoCall, fmt.Sprintf("The library call %s was made outside of a running operation.", m.Method)))
		return
	}
	slots := p.calls
	if m.Method == protocol.MethodLog {
		slots = p.logs
		slots <- struct{}{} // logs are written at once: wait for a slot
	} else {
		select {
		case slots <- struct{}{}:
		default:
			if cs != nil {
				cs.reqs.Done()
			}
			p.respond(m.ID, nil, libBody(LibErrFailed, fmt.Sprintf(
				"The library call %s was refused: %d library calls of this plugin already run at once, the most the engine runs for one plugin process. Wait for one to end before making another.",
				m.Method, MaxLibraryCalls)))
			return
		}
	}
	c := &charge{method: m.Method, budgets: []*MemoryBudget{p.memory, p.opts.Memory}}
	if err := c.grow(int64(size) * requestCost); err != nil {
		<-slots
		if cs != nil {
			cs.reqs.Done()
		}
		p.respond(m.ID, nil, errBody(ctx, err))
		return
	}
	ctx = context.WithValue(ctx, chargeKey{}, c)
	go func() {
		defer func() { <-slots }()
		defer c.release()
		if cs != nil {
			defer cs.reqs.Done()
		}
		result, body := dispatch(ctx, p.opts.Libraries, op, m)
		p.respond(m.ID, result, body)
	}()
}

func (p *process) respond(id string, result any, body *protocol.ErrorBody) {
	if res, ok := result.(libs.RunResult); ok && body == nil {
		p.respondRun(id, res)
		return
	}
	msg := &protocol.Message{Type: protocol.TypeResponse, ID: id, Error: body}
	if body == nil {
		raw, err := json.Marshal(result)
		if err != nil {
			msg.Error = libBody(LibErrFailed, "The library result cannot be encoded: "+err.Error())
		} else {
			msg.Result = raw
		}
	}
	p.tooLarge(id, p.w.Write(msg))
}

// tooLarge answers the request id with a too_large error when err says its
// response was over the message limit.
func (p *process) tooLarge(id string, err error) {
	var tooLarge *protocol.FrameTooLargeError
	if errors.As(err, &tooLarge) {
		_ = p.w.Write(&protocol.Message{Type: protocol.TypeResponse, ID: id, Error: libBody(LibErrTooLarge,
			fmt.Sprintf("The result of the library call is larger than the %d-byte (192 MiB) message limit.", protocol.MaxFrame))})
	}
}

// call runs one operation on the process.
func (p *process) call(ctx context.Context, id, op string, input []byte) (json.RawMessage, error) {
	callCtx, endCall := context.WithCancelCause(ctx)
	cs := &callState{id: id, op: op, answer: make(chan *protocol.Message, 1),
		ctx: context.WithValue(callCtx, callInfoKey{}, CallInfo{ID: id, Operation: op})}
	p.mu.Lock()
	p.cur = cs
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.cur == cs {
			p.cur = nil
		}
		p.mu.Unlock()
		endCall(errors.New("the operation ended"))
		cs.reqs.Wait()
	}()

	msg := &protocol.Message{Type: protocol.TypeCall, ID: id, Operation: op, Input: input}
	if dl, ok := ctx.Deadline(); ok {
		// Rounded up, so that the plugin's own deadline is not before the
		// host's: the host notices first and sends cancel.
		msg.TimeoutMS = max(1, int64((time.Until(dl)+time.Millisecond-1)/time.Millisecond))
	}
	// Every write to the plugin may wait for it to read (a pipe holds 64
	// KiB): it runs aside, so that the deadline, the cancel and the kill
	// that follows still come when a plugin reads nothing.
	written := p.writeAside(msg)

	ctxDone := ctx.Done()
	var grace <-chan time.Time
	for {
		select {
		case err := <-written:
			written = nil
			if err != nil {
				p.killWith("it does not read its input")
				<-p.done
				return nil, p.deathError(ctx, op)
			}
		case m := <-cs.answer:
			if m.Type == protocol.TypeResult {
				if len(m.Output) > protocol.MaxOperationPayload {
					return nil, newPluginError(KindTooLarge, op, fmt.Sprintf(
						"The output of the %s() operation is %d bytes, over the %d-byte (4 MiB) limit for operation outputs.",
						op, len(m.Output), protocol.MaxOperationPayload), "", nil)
				}
				if len(m.Output) == 0 {
					return json.RawMessage("null"), nil
				}
				return m.Output, nil
			}
			if m.Error == nil {
				m.Error = &protocol.ErrorBody{Kind: KindProtocol, Message: "The plugin sent an error without a body."}
			}
			if m.Error.Kind == protocol.KindCancelled && (ctx.Err() != nil || pastDeadline(ctx)) {
				return nil, ctxError(ctx, op, "and the plugin stopped it", nil)
			}
			return nil, fromBody(op, m.Error)
		case <-p.done:
			return nil, p.deathError(ctx, op)
		case <-ctxDone:
			ctxDone = nil
			p.writeAside(&protocol.Message{Type: protocol.TypeCancel, ID: id, Reason: context.Cause(ctx).Error()})
			t := time.NewTimer(p.opts.CancelGrace)
			defer t.Stop()
			grace = t.C
		case <-grace:
			p.killWith("the operation missed its deadline")
			<-p.done
			return nil, ctxError(ctx, op, fmt.Sprintf("and the plugin did not stop within %s of the cancellation: the plugin process was killed", p.opts.CancelGrace), nil)
		}
	}
}

// writeAside writes m to the plugin in a goroutine of its own; the
// channel receives the outcome. A plugin that does not read makes the
// write wait until the process is killed (its end of the pipe closes).
func (p *process) writeAside(m *protocol.Message) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.w.Write(m) }()
	return done
}

// deathError describes the end of a process during a call.
func (p *process) deathError(ctx context.Context, op string) *PluginError {
	p.mu.Lock()
	violation, killedFor := p.violation, p.killedFor
	p.mu.Unlock()
	if violation != nil {
		return newPluginError(KindProtocol, op, fmt.Sprintf(
			"The plugin broke the runtime protocol during the %s() operation (%v); the plugin process was killed.", op, violation),
			p.stderr.String(), violation)
	}
	if ctx.Err() != nil && killedFor != "" {
		return ctxError(ctx, op, "and the plugin process was killed", nil)
	}
	return newPluginError(KindCrashed, op, fmt.Sprintf(
		"The plugin process exited unexpectedly during the %s() operation (%s).", op, p.exitStatus()),
		p.stderr.String(), p.waitErr)
}

// shutdown asks the plugin to exit and kills it after timeout.
func (p *process) shutdown(timeout time.Duration) {
	written := p.writeAside(&protocol.Message{Type: protocol.TypeShutdown})
	select {
	case <-written:
	case <-p.done:
	case <-time.After(timeout):
	}
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.killWith("it did not shut down")
		<-p.done
	}
}

// tailWriter keeps the last max bytes written and forwards everything.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
	fwd io.Writer
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fwd != nil {
		_, _ = t.fwd.Write(b)
	}
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.buf, []byte("?")))
}

// pastDeadline reports whether ctx's deadline has passed, even if the
// context's timer has not fired yet (it may lag on a busy machine while the
// plugin's own timeout already answered).
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// launch starts the plugin's process; pr is the read end of its stdout.
func launch(opts Options) (*process, *os.File, *PluginError) {
	pctx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, opts.Binary, opts.Args...)
	cmd.Env = opts.Env
	cmd.Dir = opts.Dir
	unbox, err := opts.Sandbox.Wrap(cmd, opts.Policy)
	if err != nil {
		kill()
		return nil, nil, newPluginError(KindStart, "", "The plugin cannot be started in its sandbox: "+err.Error(), "", err)
	}
	cmd.WaitDelay = 2 * time.Second
	p := &process{
		opts:   opts,
		cmd:    cmd,
		kill:   kill,
		unbox:  unbox,
		stderr: &tailWriter{max: stderrTailSize, fwd: opts.Stderr},
		hello:  make(chan *protocol.Message, 1),
		done:   make(chan struct{}),
		calls:  make(chan struct{}, MaxLibraryCalls),
		logs:   make(chan struct{}, maxLogsInFlight),
		memory: &MemoryBudget{limit: opts.Memory.Limit() / 2, whose: "of one plugin process"},
	}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		kill()
		unbox()
		return nil, nil, newPluginError(KindStart, "", "The plugin cannot be started: "+err.Error(), "", err)
	}
	// stdout through an os.Pipe the host reads itself, so that Wait never
	// waits for it.
	pr, pw, err := os.Pipe()
	if err != nil {
		kill()
		unbox()
		return nil, nil, newPluginError(KindStart, "", "The plugin cannot be started: "+err.Error(), "", err)
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		kill()
		unbox()
		pr.Close()
		return nil, nil, newPluginError(KindStart, "", fmt.Sprintf("The plugin %s cannot be started: %v", opts.Binary, err), "", err)
	}
	return p, pr, nil
}
