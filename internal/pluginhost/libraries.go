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
	if b := allowedIn(op, m.Method); b != nil {
		return nil, b
	}
	switch m.Method {
	case protocol.MethodRunBash:
		p, b := decodeParams[protocol.RunBashParams](m)
		if b == nil {
			b = checkCommand(m.Method, p.Connection, p.Variables)
		}
		if b != nil {
			return nil, b
		}
		res, err := l.RunBash(ctx, p.Connection, BashRequest{Command: p.Command, Variables: p.Variables, UseLoginShell: p.UseLoginShell})
		return res, errBody(ctx, err)
	case protocol.MethodRunPowershell:
		p, b := decodeParams[protocol.RunPowershellParams](m)
		if b == nil {
			b = checkCommand(m.Method, p.Connection, p.Variables)
		}
		if b != nil {
			return nil, b
		}
		res, err := l.RunPowershell(ctx, p.Connection, ScriptRequest{Command: p.Command, Variables: p.Variables})
		return res, errBody(ctx, err)
	case protocol.MethodRunExpect:
		p, b := decodeParams[protocol.RunExpectParams](m)
		if b == nil {
			b = checkCommand(m.Method, p.Connection, p.Variables)
		}
		if b != nil {
			return nil, b
		}
		res, err := l.RunExpect(ctx, p.Connection, ScriptRequest{Command: p.Command, Variables: p.Variables})
		return res, errBody(ctx, err)
	case protocol.MethodRunSync:
		return nil, runSync(ctx, l, m)
	case protocol.MethodRetrieveCredentials:
		return retrieveCredentials(ctx, l, m)
	case protocol.MethodUpgradePassword:
		p, b := decodeParams[protocol.UpgradePasswordParams](m)
		if b != nil {
			return nil, b
		}
		supplier, err := l.UpgradePassword(ctx, p.Password, p.Username)
		if err != nil {
			return nil, errBody(ctx, err)
		}
		return protocol.UpgradePasswordResult{CredentialsSupplier: supplier}, nil
	case protocol.MethodLog:
		return nil, logRecord(ctx, l, m)
	}
	return nil, &protocol.ErrorBody{Kind: protocol.KindBadRequest, ID: LibErrBadRequest,
		Message: fmt.Sprintf("'%s' is not a platform library.", m.Method)}
}

// allowedIn refuses a library that operation op may not use: a data
// migration (the upgrade operation) uses only upgrade_password and
// logging, and only a migration uses upgrade_password.
func allowedIn(op, method string) *protocol.ErrorBody {
	if op == protocol.OperationUpgrade && method != protocol.MethodUpgradePassword && method != protocol.MethodLog {
		return libBody(LibErrNotAllowed, fmt.Sprintf(
			"The platform library %s cannot be used in a data migration: only upgrade_password and logging are allowed.", method))
	}
	if op != protocol.OperationUpgrade && method == protocol.MethodUpgradePassword {
		return libBody(LibErrNotAllowed, "The platform library upgrade_password can only be used in a data migration.")
	}
	return nil
}

// decodeParams decodes the params of a library request.
func decodeParams[P any](m *protocol.Message) (P, *protocol.ErrorBody) {
	var p P
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return p, libBody(LibErrBadRequest, fmt.Sprintf("The params of %s are invalid: %v", m.Method, err))
	}
	return p, nil
}

// needConn refuses the params of a library that runs on an environment
// when they name none.
func needConn(method string, c sdk.RemoteConnection) *protocol.ErrorBody {
	if c.Environment.Reference == "" {
		return libBody(LibErrBadRequest, fmt.Sprintf("The params of %s have no remote_connection environment reference.", method))
	}
	return nil
}

// checkCommand checks the params of a library that runs a command (bash,
// PowerShell, expect): its environment and its variables' names.
func checkCommand(method string, c sdk.RemoteConnection, vars map[string]string) *protocol.ErrorBody {
	if b := needConn(method, c); b != nil {
		return b
	}
	return checkVariables(method, vars)
}

// runSync serves run_sync: a copy of a directory of an environment.
func runSync(ctx context.Context, l Libraries, m *protocol.Message) *protocol.ErrorBody {
	p, b := decodeParams[protocol.RunSyncParams](m)
	if b == nil {
		b = needConn(m.Method, p.Connection)
	}
	if b != nil {
		return b
	}
	if p.SourceDirectory == "" {
		return libBody(LibErrBadRequest, "The params of run_sync have no source_directory.")
	}
	err := l.RunSync(ctx, p.Connection, SyncRequest{SourceDirectory: p.SourceDirectory, RsyncUser: p.RsyncUser,
		ExcludePaths: p.ExcludePaths, SymLinksToFollow: p.SymLinksToFollow})
	return errBody(ctx, err)
}

// retrieveCredentials serves retrieve_credentials: the credentials a
// supplier names, as a password or a key pair.
func retrieveCredentials(ctx context.Context, l Libraries, m *protocol.Message) (any, *protocol.ErrorBody) {
	p, b := decodeParams[protocol.RetrieveCredentialsParams](m)
	if b != nil {
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
}

// logRecord serves logging: a record of the plugin's log at its level.
func logRecord(ctx context.Context, l Libraries, m *protocol.Message) *protocol.ErrorBody {
	p, b := decodeParams[protocol.LogParams](m)
	if b != nil {
		return b
	}
	switch p.Level {
	case protocol.LevelDebug, protocol.LevelInfo, protocol.LevelError:
	default:
		return libBody(LibErrBadRequest, fmt.Sprintf("The log level '%s' is not DEBUG, INFO or ERROR.", p.Level))
	}
	l.Log(ctx, p.Level, p.Message)
	return nil
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
