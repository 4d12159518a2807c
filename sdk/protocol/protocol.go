// Package protocol defines version 1 of the JSON protocol spoken between an
// engine and a plugin process: message types, error kinds, size limits, the
// parameters of platform-library requests, and the newline-delimited framing.
//
// The plugin side is implemented by sdk/runtime and sdk/libs; an engine side
// by dvp's internal/pluginhost. The protocol is described message by message,
// with examples, in docs/runtime-protocol.md of the dvp repository.
package protocol

import (
	"encoding/json"
	"fmt"
)

// Version is the protocol version this package implements.
const Version = 1

// Name identifies the protocol in the manifest.
const Name = "dvp-plugin"

// Mode switches: the first command-line argument of a plugin binary.
const (
	// ManifestFlag makes the plugin print its manifest (one line of JSON)
	// on stdout and exit.
	ManifestFlag = "--dvp-manifest"
	// ServeFlag makes the plugin speak the protocol on stdin/stdout until
	// stdin is closed or the engine sends shutdown.
	ServeFlag = "--dvp-serve"
)

// Size limits (docs/runtime-protocol.md, limits).
const (
	// MaxOperationPayload bounds the JSON of an operation's input and of
	// its output.
	MaxOperationPayload = 4 << 20
	// MaxErrorPayload bounds the JSON of an error body (message, action,
	// output together); larger bodies are truncated by the sender.
	MaxErrorPayload = 128 << 10
	// MaxFrame bounds one message on the wire, and so the results of
	// platform-library calls (for example the stdout of RunBash).
	MaxFrame = 192 << 20
	// MaxPluginMessage bounds one message a plugin sends: a library
	// request (its arguments: a script, a log message), a result (whose
	// output is at most MaxOperationPayload) or an error. An engine reads
	// at most this much of a line from a plugin, so that what a plugin
	// makes it hold per request stays small.
	MaxPluginMessage = 8 << 20
)

// Message types.
const (
	TypeHello    = "hello"    // both directions, once, engine first
	TypeCall     = "call"     // engine -> plugin: run an operation
	TypeCancel   = "cancel"   // engine -> plugin: cancel a running call
	TypeShutdown = "shutdown" // engine -> plugin: exit after running calls end
	TypeResult   = "result"   // plugin -> engine: a call succeeded
	TypeError    = "error"    // plugin -> engine: a call (or the session) failed
	TypeRequest  = "request"  // plugin -> engine: a platform-library call
	TypeResponse = "response" // engine -> plugin: answer to a request
)

// Message is one line on the wire. Which fields are set depends on Type; see
// docs/runtime-protocol.md.
type Message struct {
	Type string `json:"type"`
	// ID identifies a call (call, cancel, result, error) or a request
	// (request, response).
	ID string `json:"id,omitempty"`

	// hello from the engine: the protocol versions it speaks.
	Versions []int `json:"versions,omitempty"`
	// hello from the plugin: the chosen version and what the plugin is.
	Version    int      `json:"version,omitempty"`
	SDKVersion string   `json:"sdk_version,omitempty"`
	PluginType string   `json:"plugin_type,omitempty"`
	Operations []string `json:"operations,omitempty"`

	// call
	Operation string          `json:"operation,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	TimeoutMS int64           `json:"timeout_ms,omitempty"`

	// cancel
	Reason string `json:"reason,omitempty"`

	// result
	Output json.RawMessage `json:"output,omitempty"`

	// error (answer to a call or to a request), and response failures.
	Error *ErrorBody `json:"error,omitempty"`

	// request
	Call   string          `json:"call,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`

	// response
	Result json.RawMessage `json:"result,omitempty"`
}

// Error kinds of a call's error body.
const (
	KindUser             = "user"              // the plugin returned an sdk.UserError
	KindPlugin           = "plugin"            // the plugin returned another error
	KindPanic            = "panic"             // plugin code panicked (Output: stack)
	KindBadInput         = "bad_input"         // the input could not be decoded
	KindBadOutput        = "bad_output"        // the result has the wrong shape or does not encode
	KindTooLarge         = "too_large"         // input or output over MaxOperationPayload
	KindUnknownOperation = "unknown_operation" // no such operation name
	KindNotImplemented   = "not_implemented"   // known operation, not implemented by this plugin
	KindCancelled        = "cancelled"         // the engine cancelled the call (or its timeout passed)
	KindProtocol         = "protocol"          // a message broke the protocol
	KindInvalidPlugin    = "invalid_plugin"    // the plugin's registrations are invalid; it cannot serve
)

// Error kinds of a response to a request.
const (
	// KindLibrary: an actionable engine error; ID names it.
	KindLibrary = "library"
	// KindBadRequest: the request's method or params are invalid.
	KindBadRequest = "bad_request"
)

// ErrorBody describes a failure, in user-visible terms.
type ErrorBody struct {
	Kind    string `json:"kind"`
	ID      string `json:"id,omitempty"` // library error id
	Message string `json:"message"`
	Action  string `json:"action,omitempty"`
	Output  string `json:"output,omitempty"`
}

// Error makes an ErrorBody usable as a Go error.
func (e *ErrorBody) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.ID)
	}
	return e.Message
}

// Truncate shortens the body so that its JSON encoding is at most max bytes:
// Output first, then Message, then Action, each cut on a UTF-8 boundary with a
// "[truncated]" marker.
func (e *ErrorBody) Truncate(max int) {
	size := func() int {
		b, _ := json.Marshal(e)
		return len(b)
	}
	for _, f := range []*string{&e.Output, &e.Message, &e.Action} {
		over := size() - max
		if over <= 0 {
			return
		}
		*f = cut(*f, len(*f)-over-len(truncMark)-16)
	}
}

const truncMark = " ... [truncated]"

// cut returns s shortened to at most n bytes (not splitting a UTF-8
// sequence) followed by the truncation marker; escaping may make the JSON
// longer than n, which Truncate absorbs with a margin and by iterating
// over the fields.
func cut(s string, n int) string {
	if n <= 0 {
		return truncMark[1:]
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + truncMark
}

// Library methods (Message.Method of a request).
const (
	MethodRunBash             = "run_bash"
	MethodRunPowershell       = "run_powershell"
	MethodRunExpect           = "run_expect"
	MethodRunSync             = "run_sync"
	MethodRetrieveCredentials = "retrieve_credentials"
	MethodUpgradePassword     = "upgrade_password"
	MethodLog                 = "log"
)

// OperationUpgrade is the operation name of a data upgrade call; the runtime
// implements it from the plugin's migrations.
const OperationUpgrade = "upgrade"
