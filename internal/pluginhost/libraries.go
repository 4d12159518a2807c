package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Libraries executes the platform-library requests of a plugin. The engine
// implements it (LocalLibraries runs everything on this host). Return a
// *libs.LibraryError for an error the plugin may handle; any other error
// reaches the plugin as a LibraryError with ID "failed". The context is the
// call's: it ends when the call ends, and CallInfoFrom tells which call it is.
type Libraries interface {
	RunBash(ctx context.Context, conn sdk.RemoteConnection, req BashRequest) (libs.RunResult, error)
	RunPowershell(ctx context.Context, conn sdk.RemoteConnection, req ScriptRequest) (libs.RunResult, error)
	RunExpect(ctx context.Context, conn sdk.RemoteConnection, req ScriptRequest) (libs.RunResult, error)
	RunSync(ctx context.Context, conn sdk.RemoteConnection, req SyncRequest) error
	// RetrieveCredentials resolves a credentials supplier object.
	RetrieveCredentials(ctx context.Context, supplier json.RawMessage) (sdk.Credentials, error)
	// UpgradePassword returns an object conforming to
	// passwordCredentialsSupplier.
	UpgradePassword(ctx context.Context, password, username string) (json.RawMessage, error)
	// Log records a plugin log message; level is protocol.LevelDebug,
	// LevelInfo or LevelError.
	Log(ctx context.Context, level, message string)
}

// BashRequest is a run_bash request.
type BashRequest struct {
	Command       string
	Variables     map[string]string
	UseLoginShell bool
}

// ScriptRequest is a run_powershell or run_expect request.
type ScriptRequest struct {
	Command   string
	Variables map[string]string
}

// SyncRequest is a run_sync request.
type SyncRequest struct {
	SourceDirectory  string
	RsyncUser        string
	ExcludePaths     []string
	SymLinksToFollow []string
}

// Library error ids used by the host and LocalLibraries.
const (
	LibErrFailed      = "failed"       // the library failed for another reason
	LibErrUnsupported = "unsupported"  // the library cannot run on this host
	LibErrNotAllowed  = "not_allowed"  // not allowed in this operation (data migrations)
	LibErrCancelled   = "cancelled"    // the call ended before the library finished
	LibErrTooLarge    = "too_large"    // the result does not fit in a message
	LibErrBadRequest  = "bad_request"  // invalid params
	LibErrCredentials = "credentials"  // the supplier cannot be resolved
	LibErrNoCall      = "no_operation" // a request outside any running call
)

// CallInfo identifies the call a library request belongs to.
type CallInfo struct {
	// ID is the call's protocol id; Operation its operation name. Both are
	// empty for log records sent outside any call.
	ID, Operation string
}

type callInfoKey struct{}

// CallInfoFrom returns the call a Libraries method is serving.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	ci, ok := ctx.Value(callInfoKey{}).(CallInfo)
	return ci, ok
}

// dispatch runs one library request and returns its result or error body.
func dispatch(ctx context.Context, l Libraries, op string, m *protocol.Message) (any, *protocol.ErrorBody) {
	if op == protocol.OperationUpgrade && m.Method != protocol.MethodUpgradePassword && m.Method != protocol.MethodLog {
		return nil, libBody(LibErrNotAllowed, fmt.Sprintf(
			"The platform library %s cannot be used in a data migration: only upgrade_password and logging are allowed.", m.Method))
	}
	if op != protocol.OperationUpgrade && m.Method == protocol.MethodUpgradePassword {
		return nil, libBody(LibErrNotAllowed, "The platform library upgrade_password can only be used in a data migration.")
	}
	decode := func(v any) *protocol.ErrorBody {
		if err := json.Unmarshal(m.Params, v); err != nil {
			return libBody(LibErrBadRequest, fmt.Sprintf("The params of %s are invalid: %v", m.Method, err))
		}
		return nil
	}
	needConn := func(c sdk.RemoteConnection) *protocol.ErrorBody {
		if c.Environment.Reference == "" {
			return libBody(LibErrBadRequest, fmt.Sprintf("The params of %s have no remote_connection environment reference.", m.Method))
		}
		return nil
	}
	switch m.Method {
	case protocol.MethodRunBash:
		var p protocol.RunBashParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		if b := needConn(p.Connection); b != nil {
			return nil, b
		}
		if b := checkVariables(m.Method, p.Variables); b != nil {
			return nil, b
		}
		res, err := l.RunBash(ctx, p.Connection, BashRequest{Command: p.Command, Variables: p.Variables, UseLoginShell: p.UseLoginShell})
		return res, errBody(ctx, err)
	case protocol.MethodRunPowershell:
		var p protocol.RunPowershellParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		if b := needConn(p.Connection); b != nil {
			return nil, b
		}
		if b := checkVariables(m.Method, p.Variables); b != nil {
			return nil, b
		}
		res, err := l.RunPowershell(ctx, p.Connection, ScriptRequest{Command: p.Command, Variables: p.Variables})
		return res, errBody(ctx, err)
	case protocol.MethodRunExpect:
		var p protocol.RunExpectParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		if b := needConn(p.Connection); b != nil {
			return nil, b
		}
		if b := checkVariables(m.Method, p.Variables); b != nil {
			return nil, b
		}
		res, err := l.RunExpect(ctx, p.Connection, ScriptRequest{Command: p.Command, Variables: p.Variables})
		return res, errBody(ctx, err)
	case protocol.MethodRunSync:
		var p protocol.RunSyncParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		if b := needConn(p.Connection); b != nil {
			return nil, b
		}
		if p.SourceDirectory == "" {
			return nil, libBody(LibErrBadRequest, "The params of run_sync have no source_directory.")
		}
		err := l.RunSync(ctx, p.Connection, SyncRequest{SourceDirectory: p.SourceDirectory, RsyncUser: p.RsyncUser,
			ExcludePaths: p.ExcludePaths, SymLinksToFollow: p.SymLinksToFollow})
		return nil, errBody(ctx, err)
	case protocol.MethodRetrieveCredentials:
		var p protocol.RetrieveCredentialsParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		creds, err := l.RetrieveCredentials(ctx, p.CredentialsSupplier)
		if err != nil {
			return nil, errBody(ctx, err)
		}
		switch c := creds.(type) {
		case sdk.PasswordCredentials:
			return protocol.CredentialsResult{Username: c.Username, Password: c.Password}, nil
		case sdk.KeyPairCredentials:
			return protocol.CredentialsResult{Username: c.Username, PrivateKey: c.PrivateKey, PublicKey: c.PublicKey}, nil
		}
		return nil, libBody(LibErrCredentials, fmt.Sprintf("The engine resolved the credentials to %T, which is not a credentials type.", creds))
	case protocol.MethodUpgradePassword:
		var p protocol.UpgradePasswordParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		supplier, err := l.UpgradePassword(ctx, p.Password, p.Username)
		if err != nil {
			return nil, errBody(ctx, err)
		}
		return protocol.UpgradePasswordResult{CredentialsSupplier: supplier}, nil
	case protocol.MethodLog:
		var p protocol.LogParams
		if b := decode(&p); b != nil {
			return nil, b
		}
		switch p.Level {
		case protocol.LevelDebug, protocol.LevelInfo, protocol.LevelError:
		default:
			return nil, libBody(LibErrBadRequest, fmt.Sprintf("The log level '%s' is not DEBUG, INFO or ERROR.", p.Level))
		}
		l.Log(ctx, p.Level, p.Message)
		return nil, nil
	}
	return nil, &protocol.ErrorBody{Kind: protocol.KindBadRequest, ID: LibErrBadRequest,
		Message: fmt.Sprintf("'%s' is not a platform library.", m.Method)}
}

// checkVariables refuses a variable name that is not an environment
// variable name (letters, digits and _, not starting with a digit): the SDK
// never sends one, and a name such as "A=B", "X\nY" or one with a NUL would
// set another variable than the one named, or make the start of the command
// fail, on a local environment (an SSH one refused it already).
func checkVariables(method string, vars map[string]string) *protocol.ErrorBody {
	for name := range vars {
		if !ValidEnvName(name) {
			return libBody(LibErrBadRequest, fmt.Sprintf("The params of %s have in variables the name %s, which is not a valid environment variable name "+
				"(letters, digits and _, not starting with a digit).", method, strconv.QuoteToASCII(name[:min(len(name), 64)])))
		}
	}
	return nil
}

// ValidEnvName tells whether name is an environment variable name: letters,
// digits and _, not starting with a digit.
func ValidEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func libBody(id, msg string) *protocol.ErrorBody {
	return &protocol.ErrorBody{Kind: protocol.KindLibrary, ID: id, Message: msg}
}

func errBody(ctx context.Context, err error) *protocol.ErrorBody {
	if err == nil {
		return nil
	}
	var le *libs.LibraryError
	if errors.As(err, &le) {
		return libBody(le.ID, le.Message)
	}
	if ctx.Err() != nil {
		return libBody(LibErrCancelled, "The library call was cancelled: "+context.Cause(ctx).Error())
	}
	return libBody(LibErrFailed, err.Error())
}
