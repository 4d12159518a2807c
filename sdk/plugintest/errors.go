package plugintest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// OperationError is a failed operation as the engine sees it. Kind says
// what failed: protocol.KindUser ("user") for an sdk.UserError the plugin
// returned, protocol.KindPlugin ("plugin") for any other error,
// protocol.KindPanic ("panic", Output holds the stack),
// protocol.KindBadInput ("bad_input") for an input the generated code
// rejected, protocol.KindBadOutput ("bad_output") for a result the engine
// would reject, protocol.KindNotImplemented ("not_implemented") for an
// operation the plugin does not implement.
type OperationError struct {
	Operation string
	Kind      string
	Message   string
	Action    string
	Output    string
}

// Error names the operation, the kind and the message.
func (e *OperationError) Error() string {
	return fmt.Sprintf("%s() failed (%s): %s", e.Operation, e.Kind, e.Message)
}

// AsUserError reports whether err is an operation's failure with an
// sdk.UserError, and returns it as the engine received it (the engine shows
// sdk.DefaultUserErrorAction when Action is empty).
func AsUserError(err error) (sdk.UserError, bool) {
	var oe *OperationError
	if errors.As(err, &oe) && oe.Kind == protocol.KindUser {
		return sdk.UserError{Message: oe.Message, Action: oe.Action, Output: oe.Output}, true
	}
	return sdk.UserError{}, false
}

// WantUserError fails the test unless err is an operation's failure with an
// sdk.UserError whose message contains every one of parts; it returns the
// user error.
func WantUserError(t testing.TB, err error, parts ...string) sdk.UserError {
	t.Helper()
	if err == nil {
		t.Fatalf("the operation succeeded; want a user error")
	}
	ue, ok := AsUserError(err)
	if !ok {
		t.Fatalf("the operation failed with %v; want a user error (return sdk.UserError{...})", err)
	}
	for _, p := range parts {
		if !strings.Contains(ue.Message, p) {
			t.Errorf("the user error's message %q lacks %q", ue.Message, p)
		}
	}
	return ue
}
