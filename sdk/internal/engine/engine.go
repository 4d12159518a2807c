// Package engine carries the runtime channel to the engine through a
// context, from sdk/runtime (which owns the channel) to sdk/libs (which sends
// platform-library requests on it).
package engine

import (
	"context"
	"sync/atomic"
)

// Caller sends one platform-library request and waits for its response.
// params is encoded to JSON; the response's result is decoded into result
// (which may be nil). A failed request returns a *protocol.ErrorBody.
type Caller interface {
	Call(ctx context.Context, method string, params, result any) error
}

type ctxKey struct{}

// With returns a context carrying c.
func With(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// From returns the caller carried by ctx, or nil.
func From(ctx context.Context) Caller {
	if ctx == nil {
		return nil
	}
	c, _ := ctx.Value(ctxKey{}).(Caller)
	return c
}

type holder struct{ c Caller }

var def atomic.Pointer[holder]

// SetDefault sets the process-wide caller used for log records emitted
// without an operation's context (for example with slog.Info).
func SetDefault(c Caller) {
	if c == nil {
		def.Store(nil)
		return
	}
	def.Store(&holder{c})
}

// Default returns the process-wide caller, or nil.
func Default() Caller {
	if h := def.Load(); h != nil {
		return h.c
	}
	return nil
}
