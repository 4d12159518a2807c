package pluginhost

import (
	"fmt"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Error kinds of a PluginError: the kinds a plugin reports (protocol.Kind*)
// plus the ones the host detects itself.
const (
	KindUser             = protocol.KindUser
	KindPlugin           = protocol.KindPlugin
	KindPanic            = protocol.KindPanic
	KindBadInput         = protocol.KindBadInput
	KindBadOutput        = protocol.KindBadOutput
	KindTooLarge         = protocol.KindTooLarge
	KindUnknownOperation = protocol.KindUnknownOperation
	KindNotImplemented   = protocol.KindNotImplemented
	KindCancelled        = protocol.KindCancelled
	KindProtocol         = protocol.KindProtocol
	KindInvalidPlugin    = protocol.KindInvalidPlugin

	// KindTimeout: the call's context deadline passed; the plugin either
	// acknowledged the cancellation or was killed.
	KindTimeout = "timeout"
	// KindCrashed: the plugin process exited during the call.
	KindCrashed = "crashed"
	// KindStart: the plugin process could not be started or failed the
	// handshake.
	KindStart = "start"
)

// PluginError is the error of a failed Call. Message, Action and Output are
// meant for the engine's user: Action is never empty (the engine default
// sdk.DefaultUserErrorAction applies when the plugin gave none), Output holds
// details such as a panic's stack or the end of a crashed plugin's stderr.
type PluginError struct {
	Kind      string
	Operation string
	Message   string
	Action    string
	Output    string
	// Err is the underlying Go error for host-side failures, or nil.
	Err error
}

func (e *PluginError) Error() string {
	if e.Operation == "" {
		return fmt.Sprintf("plugin (%s): %s", e.Kind, e.Message)
	}
	return fmt.Sprintf("plugin operation %s() (%s): %s", e.Operation, e.Kind, e.Message)
}

func (e *PluginError) Unwrap() error { return e.Err }

func newPluginError(kind, op, msg, output string, err error) *PluginError {
	body := &protocol.ErrorBody{Kind: kind, Message: msg, Output: output}
	body.Truncate(protocol.MaxErrorPayload)
	return &PluginError{Kind: kind, Operation: op, Message: body.Message, Action: sdk.DefaultUserErrorAction, Output: body.Output, Err: err}
}

func fromBody(op string, b *protocol.ErrorBody) *PluginError {
	body := *b
	body.Truncate(protocol.MaxErrorPayload)
	if body.Kind == "" {
		body.Kind = KindPlugin
	}
	if body.Action == "" {
		body.Action = sdk.DefaultUserErrorAction
	}
	return &PluginError{Kind: body.Kind, Operation: op, Message: body.Message, Action: body.Action, Output: body.Output}
}

// ManifestError reports the problems a plugin found in its own
// registrations (manifest mode).
type ManifestError struct {
	Problems []string
}

func (e *ManifestError) Error() string {
	if len(e.Problems) == 1 {
		return "the plugin's registrations are invalid: " + e.Problems[0]
	}
	return fmt.Sprintf("the plugin's registrations are invalid (%d problems): %s ...", len(e.Problems), e.Problems[0])
}
