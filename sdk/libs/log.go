package libs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Handler is a slog.Handler that sends records to the engine's plugin logs.
// The runtime installs one as slog's default logger when the plugin serves
// an engine, so slog.Info, slog.DebugContext, log.Printf, ... all reach the
// engine. Records are mapped to the engine's three levels: up to
// slog.LevelDebug -> DEBUG, up to slog.LevelInfo -> INFO, anything higher
// (warnings included) -> ERROR. The engine keeps them hierarchically: an
// ERROR record is in the error, info and debug logs.
//
// The text sent is the message followed by the attributes as key=value.
// Never log secrets; sdk credentials mask themselves.
//
// Outside a running plugin and a plugintest platform (a plain unit test,
// manifest mode) records go to stderr.
type Handler struct {
	level  slog.Leveler
	prefix string // group prefix for attribute keys, "a.b."
	attrs  string // pre-formatted attributes of WithAttrs
}

// NewHandler returns a handler; opts.Level is the minimum level (slog.LevelInfo
// when opts or opts.Level is nil). Other options are ignored.
func NewHandler(opts *slog.HandlerOptions) *Handler {
	h := &Handler{level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

// Enabled reports whether the level is at least the handler's.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// EngineLevel maps a slog level to the engine's DEBUG, INFO or ERROR.
func EngineLevel(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return protocol.LevelDebug
	case l <= slog.LevelInfo:
		return protocol.LevelInfo
	}
	return protocol.LevelError
}

// maxLogMessage keeps a log request within a plugin's message limit, with
// room for the envelope.
const maxLogMessage = protocol.MaxPluginMessage - 64<<10

var stderrMu sync.Mutex

// Handle sends the record to the engine (with the operation's context when
// one is given, so the engine attributes it to the operation).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	msg := b.String()
	if len(msg) > maxLogMessage {
		n := maxLogMessage
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		msg = msg[:n] + " ... [truncated]"
	}
	level := EngineLevel(r.Level)
	c := engine.From(ctx)
	if c == nil {
		c = engine.Default()
	}
	if c == nil {
		stderrMu.Lock()
		defer stderrMu.Unlock()
		_, err := fmt.Fprintf(os.Stderr, "%s %s\n", level, msg)
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// Deliver even when the operation is being cancelled.
	return c.Call(context.WithoutCancel(ctx), protocol.MethodLog, protocol.LogParams{Level: level, Message: msg}, nil)
}

// WithAttrs returns a handler adding attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

// WithGroup returns a handler qualifying later attribute keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix)
	b.WriteString(a.Key)
	b.WriteByte('=')
	s := a.Value.String()
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '=' || r == 0x7f }) {
		s = strconv.Quote(s)
	}
	b.WriteString(s)
}

var _ slog.Handler = (*Handler)(nil)
