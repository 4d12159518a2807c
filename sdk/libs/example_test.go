package libs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// exampleEngine answers library requests as an engine would for the
// examples: it stands for the engine behind an operation's context.
type exampleEngine struct{}

func (exampleEngine) Call(_ context.Context, method string, params, result any) error {
	raw, _ := json.Marshal(params)
	var answer any
	switch method {
	case protocol.MethodRunBash:
		var p protocol.RunBashParams
		_ = json.Unmarshal(raw, &p)
		switch {
		case strings.HasPrefix(p.Command, "rsync"):
			answer = protocol.RunResult{ExitCode: 23, Stderr: "rsync: change_dir \"/var/data\" failed: No such file or directory (2)"}
		default:
			answer = protocol.RunResult{Stdout: "PostgreSQL 16.4\n"}
		}
	case protocol.MethodRunSync:
		return nil
	case protocol.MethodRetrieveCredentials:
		answer = protocol.CredentialsResult{Username: "postgres", Password: "s3cret"}
	case protocol.MethodUpgradePassword:
		answer = protocol.UpgradePasswordResult{CredentialsSupplier: json.RawMessage(`{"type":"NamedPasswordCredential","password":"s3cret"}`)}
	default:
		return nil
	}
	b, _ := json.Marshal(answer)
	return json.Unmarshal(b, result)
}

// operationContext stands for the ctx an operation receives from the
// runtime (or from sdk/plugintest in a unit test).
func operationContext() context.Context {
	return engine.With(context.Background(), exampleEngine{})
}

var stagedConnection = sdk.RemoteConnection{
	Environment: sdk.RemoteEnvironment{Name: "staging", Reference: "UNIX_HOST_ENVIRONMENT-2"},
	User:        sdk.RemoteUser{Name: "delphix", Reference: "HOST_USER-2"},
}

// Run a command on an environment and read its output; a non-zero exit code
// is in the result, not an error.
func ExampleRunBash() {
	ctx := operationContext()
	res, err := libs.RunBash(ctx, stagedConnection, "psql --version")
	if err != nil {
		fmt.Println("the engine could not run the command:", err)
		return
	}
	fmt.Printf("exit code %d, stdout %q\n", res.ExitCode, res.Stdout)
	// Output: exit code 0, stdout "PostgreSQL 16.4\n"
}

// With Check, a non-zero exit code is an error (*libs.PluginScriptError);
// secrets go in Variables, never in the command string.
func ExampleRunBash_check() {
	ctx := operationContext()
	_, err := libs.RunBash(ctx, stagedConnection, `rsync -r "$SRC" /mnt/stage`,
		libs.Variables(map[string]string{"SRC": "delphix@db.example.com:/var/data"}), libs.Check())
	var failed *libs.PluginScriptError
	if errors.As(err, &failed) {
		fmt.Println("rsync exited with", failed.ExitCode)
		// An operation would return a user error:
		err = sdk.UserError{Message: "Could not copy files.", Output: failed.Stderr}
	}
	fmt.Println(err)
	// Output:
	// rsync exited with 23
	// Could not copy files.
}

// A DIRECT plugin's pre-snapshot copies the source's files straight into
// the dSource.
func ExampleRunSync() {
	ctx := operationContext()
	err := libs.RunSync(ctx, stagedConnection, "/var/data", "", []string{"/var/data/tmp"}, nil)
	fmt.Println(err)
	// Output: <nil>
}

// Ask the engine for the secret a credentials supplier designates (a
// property of a plugin-defined object whose schema is a $ref to
// credentialsSupplier; here as raw JSON).
func ExampleRetrieveCredentials() {
	ctx := operationContext()
	supplier := libs.RawSupplier(`{"type":"NamedPasswordCredential","username":"postgres","password":"s3cret"}`)
	creds, err := libs.RetrieveCredentials(ctx, supplier)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch c := creds.(type) {
	case sdk.PasswordCredentials:
		fmt.Println("user", c.Username, "password length", len(c.Password))
		fmt.Println(c) // credentials mask their secret when printed
	case sdk.KeyPairCredentials:
		fmt.Println("user", c.Username, "with a key")
	}
	// Output:
	// user postgres password length 6
	// PasswordCredentials{Username: "postgres", Password: ******}
}

// A data migration turns a password kept in a plain string property into a
// credentials supplier.
func ExampleUpgradePassword() {
	ctx := operationContext()
	supplier, err := libs.UpgradePassword(ctx, "s3cret", "")
	fmt.Println(string(supplier), err)
	// Output: {"type":"NamedPasswordCredential","password":"s3cret"} <nil>
}

// Outside an operation (a context the runtime did not give) the libraries
// have no engine to ask.
func ExampleErrNoEngine() {
	_, err := libs.RunBash(context.Background(), stagedConnection, "true")
	fmt.Println(errors.Is(err, libs.ErrNoEngine))
	// Output: true
}
