package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dvpkit/dvp/sdk/protocol"
)

// Invoke runs one operation of p in this process the way Serve runs an
// engine's call: the plugin's registrations are checked first (a plugin with
// problems cannot serve), then the input is checked and decoded, the
// operation runs (a panic, or a runtime.Goexit, becomes an error), and its
// result is checked and encoded. op is a wire name such as
// "linked.pre_snapshot", or "upgrade"; input is the operation's input object
// (see docs/runtime-protocol.md).
//
// The operation's platform-library calls (RunBash, RunSync, logging, ...) go
// to the engine the context carries; with a context that carries none they
// fail with libs.ErrNoEngine. The package sdk/plugintest supplies a fake
// engine: use it to unit-test a plugin.
//
// On failure the error is a *protocol.ErrorBody: its Kind says what failed
// (protocol.KindUser for an sdk.UserError, protocol.KindBadInput,
// protocol.KindPanic, ...) and its Message, Action and Output are what the
// engine would show.
func Invoke(ctx context.Context, p *Plugin, op string, input json.RawMessage) (json.RawMessage, error) {
	if p == nil {
		return nil, &protocol.ErrorBody{Kind: protocol.KindInvalidPlugin, Message: "The plugin is nil."}
	}
	if problems := p.Problems(); len(problems) > 0 {
		body := &protocol.ErrorBody{Kind: protocol.KindInvalidPlugin, Message: joinProblems(problems)}
		body.Truncate(protocol.MaxErrorPayload)
		return nil, body
	}
	out, body := answer(ctx, p, op, input)
	if body != nil {
		body.Truncate(protocol.MaxErrorPayload)
		return nil, body
	}
	return out, nil
}

// answer runs invoke in a goroutine of its own so that a runtime.Goexit in
// plugin code, or a panic outside the operation itself (in an error's Error
// method, for example), still produces an answer.
func answer(ctx context.Context, p *Plugin, op string, input json.RawMessage) (out json.RawMessage, body *protocol.ErrorBody) {
	done := make(chan struct{})
	go func() {
		returned := false
		defer func() {
			if !returned {
				if v := recover(); v != nil {
					out, body = nil, &protocol.ErrorBody{Kind: protocol.KindPanic, Message: fmt.Sprintf(
						"The plugin panicked while the answer of the %s() operation was prepared: %v", op, v)}
				} else {
					// Plugin code called runtime.Goexit: the goroutine ends
					// without returning.
					out, body = nil, &protocol.ErrorBody{Kind: protocol.KindPlugin, Message: fmt.Sprintf(
						"The %s() operation stopped without returning (runtime.Goexit was called).", op)}
				}
			}
			close(done)
		}()
		out, body = invoke(ctx, p, op, input)
		returned = true
	}()
	<-done
	return out, body
}
