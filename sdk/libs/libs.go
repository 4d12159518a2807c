package libs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/internal/jsonkind"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// RunResult is the result of RunBash, RunPowershell and RunExpect: what the
// script wrote and how it exited. A non-zero ExitCode is not an error unless
// the call had the Check option; test it:
//
//	res, err := libs.RunBash(ctx, conn, "test -d /var/data")
//	if err != nil {
//		return err // the engine could not run the script
//	}
//	if res.ExitCode != 0 {
//		return sdk.UserError{Message: "No data directory.", Output: res.Stderr}
//	}
//
// It is the result object of the run_bash, run_powershell and run_expect
// methods of the protocol (see docs/runtime-protocol.md).
type RunResult struct {
	// ExitCode is the script's exit code (the exit code of the last
	// command for bash, $LASTEXITCODE or the script's exit code for
	// PowerShell).
	ExitCode int `json:"exit_code"`
	// Stdout is what the script wrote to its standard output.
	Stdout string `json:"stdout"`
	// Stderr is what the script wrote to its standard error.
	Stderr string `json:"stderr"`
}

// RunOption configures RunBash, RunPowershell or RunExpect.
type RunOption func(*runOptions)

type runOptions struct {
	variables map[string]string
	login     bool
	check     bool
}

// Variables sets environment variables for the script. Pass secrets this way,
// never inside the command string: the engine treats variables as sensitive.
// Several Variables options are merged.
func Variables(vars map[string]string) RunOption {
	return func(o *runOptions) {
		if o.variables == nil {
			o.variables = make(map[string]string, len(vars))
		}
		for k, v := range vars {
			o.variables[k] = v
		}
	}
}

// UseLoginShell runs the command in a login shell (RunBash only).
func UseLoginShell() RunOption { return func(o *runOptions) { o.login = true } }

// Check makes a non-zero exit code an error: the call returns the result and
// a *PluginScriptError.
func Check() RunOption { return func(o *runOptions) { o.check = true } }

// RunBash runs a shell command or script with bash on a Unix environment, as
// the connection's environment user, from that user's home directory.
func RunBash(ctx context.Context, conn sdk.RemoteConnection, command string, opts ...RunOption) (RunResult, error) {
	const fn = protocol.MethodRunBash
	o := collect(opts)
	if err := checkScript(fn, conn, command, o.variables); err != nil {
		return RunResult{}, err
	}
	return runScript(ctx, fn, o.check, protocol.RunBashParams{
		Connection: conn, Command: command, Variables: o.variables, UseLoginShell: o.login,
	})
}

// RunPowershell runs a PowerShell command or script on a Windows environment.
// The script's exit code is the result's exit code.
func RunPowershell(ctx context.Context, conn sdk.RemoteConnection, command string, opts ...RunOption) (RunResult, error) {
	const fn = protocol.MethodRunPowershell
	o := collect(opts)
	if o.login {
		return RunResult{}, &ArgumentError{Function: fn, Argument: "use_login_shell", Problem: "is not supported (only run_bash has a login shell)"}
	}
	if err := checkScript(fn, conn, command, o.variables); err != nil {
		return RunResult{}, err
	}
	return runScript(ctx, fn, o.check, protocol.RunPowershellParams{
		Connection: conn, Command: command, Variables: o.variables,
	})
}

// RunExpect runs an expect (Tcl) script on a Unix environment.
func RunExpect(ctx context.Context, conn sdk.RemoteConnection, command string, opts ...RunOption) (RunResult, error) {
	const fn = protocol.MethodRunExpect
	o := collect(opts)
	if o.login {
		return RunResult{}, &ArgumentError{Function: fn, Argument: "use_login_shell", Problem: "is not supported (only run_bash has a login shell)"}
	}
	if err := checkScript(fn, conn, command, o.variables); err != nil {
		return RunResult{}, err
	}
	return runScript(ctx, fn, o.check, protocol.RunExpectParams{
		Connection: conn, Command: command, Variables: o.variables,
	})
}

// RunSync copies the files of sourceDirectory on the connection's host
// straight into the dSource with rsync (direct ingestion). rsyncUser is the
// user who can read the directory ("" for the connection's user);
// excludePaths are left out; symLinksToFollow are symbolic links whose
// targets are copied instead of the links.
func RunSync(ctx context.Context, conn sdk.RemoteConnection, sourceDirectory, rsyncUser string, excludePaths, symLinksToFollow []string) error {
	const fn = protocol.MethodRunSync
	if err := checkConnection(fn, conn); err != nil {
		return err
	}
	if sourceDirectory == "" {
		return &ArgumentError{Function: fn, Argument: "source_directory", Problem: "is empty but should be a directory path"}
	}
	if err := checkText(fn, "source_directory", sourceDirectory); err != nil {
		return err
	}
	if err := checkText(fn, "rsync_user", rsyncUser); err != nil {
		return err
	}
	for arg, list := range map[string][]string{"exclude_paths": excludePaths, "sym_links_to_follow": symLinksToFollow} {
		for _, p := range list {
			if p == "" {
				return &ArgumentError{Function: fn, Argument: arg, Problem: "contains an empty path"}
			}
			if err := checkText(fn, arg, p); err != nil {
				return err
			}
		}
	}
	return call(ctx, fn, protocol.RunSyncParams{
		Connection: conn, SourceDirectory: sourceDirectory, RsyncUser: rsyncUser,
		ExcludePaths: excludePaths, SymLinksToFollow: symLinksToFollow,
	}, nil)
}

// CredentialsSupplier is a credentials-supplier property of a plugin-defined
// object (a property whose schema is a $ref to credentialsSupplier,
// passwordCredentialsSupplier or keyCredentialsSupplier), kept exactly as the
// engine sent it.
type CredentialsSupplier interface {
	RawJSON() json.RawMessage
}

// RawSupplier adapts raw JSON to CredentialsSupplier.
type RawSupplier json.RawMessage

// RawJSON returns the JSON.
func (r RawSupplier) RawJSON() json.RawMessage { return json.RawMessage(r) }

// RetrieveCredentials asks the engine for the secret the supplier designates
// (a password or key pair given in the UI, or a vault lookup). It returns
// sdk.KeyPairCredentials when the secret has a private or public key, and
// sdk.PasswordCredentials otherwise.
func RetrieveCredentials(ctx context.Context, supplier CredentialsSupplier) (sdk.Credentials, error) {
	const fn = protocol.MethodRetrieveCredentials
	if supplier == nil {
		return nil, &ArgumentError{Function: fn, Argument: "credentials_supplier", Problem: "is nil but should be the credentials supplier the plugin received"}
	}
	raw := supplier.RawJSON()
	if kind := jsonKind(raw); kind != "an object" {
		return nil, &ArgumentError{Function: fn, Argument: "credentials_supplier", Problem: "is " + kind + " but should be a JSON object (the credentials supplier the plugin received, unmodified)"}
	}
	var res protocol.CredentialsResult
	if err := call(ctx, fn, protocol.RetrieveCredentialsParams{CredentialsSupplier: raw}, &res); err != nil {
		return nil, err
	}
	if res.PrivateKey != "" || res.PublicKey != "" {
		return sdk.KeyPairCredentials{Username: res.Username, PrivateKey: res.PrivateKey, PublicKey: res.PublicKey}, nil
	}
	return sdk.PasswordCredentials{Username: res.Username, Password: res.Password}, nil
}

// UpgradePassword turns a password kept in a plain string property into an
// object conforming to passwordCredentialsSupplier, during a data migration
// (the only library a migration may call besides logging). username may be
// empty.
func UpgradePassword(ctx context.Context, password, username string) (json.RawMessage, error) {
	const fn = protocol.MethodUpgradePassword
	if err := checkText(fn, "password", password); err != nil {
		return nil, err
	}
	if err := checkText(fn, "username", username); err != nil {
		return nil, err
	}
	var res protocol.UpgradePasswordResult
	if err := call(ctx, fn, protocol.UpgradePasswordParams{Password: password, Username: username}, &res); err != nil {
		return nil, err
	}
	if jsonKind(res.CredentialsSupplier) != "an object" {
		return nil, &LibraryError{ID: protocol.KindBadRequest, Message: "the engine answered upgrade_password without a credentials supplier object"}
	}
	return res.CredentialsSupplier, nil
}

func collect(opts []RunOption) runOptions {
	var o runOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

func runScript(ctx context.Context, fn string, check bool, params any) (RunResult, error) {
	var res RunResult
	if err := call(ctx, fn, params, &res); err != nil {
		return RunResult{}, err
	}
	if check && res.ExitCode != 0 {
		return res, &PluginScriptError{ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr}
	}
	return res, nil
}

func call(ctx context.Context, method string, params, result any) error {
	c := engine.From(ctx)
	if c == nil {
		return ErrNoEngine
	}
	err := c.Call(ctx, method, params, result)
	var body *protocol.ErrorBody
	if errors.As(err, &body) {
		id := body.ID
		if id == "" {
			id = body.Kind
		}
		return &LibraryError{ID: id, Message: body.Message}
	}
	return err
}

func checkConnection(fn string, conn sdk.RemoteConnection) error {
	if conn.Environment.Reference == "" {
		return &ArgumentError{Function: fn, Argument: "remote_connection",
			Problem: "has no environment reference; pass a connection the operation received (for example the staged source's StagedConnection)"}
	}
	return nil
}

func checkScript(fn string, conn sdk.RemoteConnection, command string, vars map[string]string) error {
	if err := checkConnection(fn, conn); err != nil {
		return err
	}
	if err := checkText(fn, "command", command); err != nil {
		return err
	}
	for name, value := range vars {
		if name == "" || strings.ContainsAny(name, "=\x00") || !utf8.ValidString(name) {
			return &ArgumentError{Function: fn, Argument: "variables", Problem: "has the name " + quote(name) + ", which is not a valid environment variable name"}
		}
		if err := checkText(fn, "variables", value); err != nil {
			return &ArgumentError{Function: fn, Argument: "variables", Problem: "has a value for " + quote(name) + " that " + err.(*ArgumentError).Problem}
		}
	}
	return nil
}

func checkText(fn, arg, s string) error {
	if !utf8.ValidString(s) {
		return &ArgumentError{Function: fn, Argument: arg, Problem: "is not valid UTF-8"}
	}
	if strings.ContainsRune(s, 0) {
		return &ArgumentError{Function: fn, Argument: arg, Problem: "contains a NUL character"}
	}
	return nil
}

func quote(s string) string { return "'" + s + "'" }

// jsonKind describes the JSON value in raw: "an object", "an array",
// "a string", "a number", "a boolean", "null", "empty" or "invalid JSON".
func jsonKind(raw json.RawMessage) string {
	k := jsonkind.Of(raw)
	if k != "empty" && !json.Valid(raw) {
		return "invalid JSON"
	}
	return k
}
