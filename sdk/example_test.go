package sdk_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dvpkit/dvp/sdk"
)

// An operation fails with a message for the engine's user by returning a
// UserError (Python: raise UserError(...) or RuntimeError).
func ExampleUserError() {
	copyFiles := func() error {
		return sdk.UserError{
			Message: "Could not copy files. Please ensure that passwordless SSH works for db.example.com.",
			Action:  "Add the staging host's public key to ~/.ssh/authorized_keys on db.example.com.",
			Output:  "Permission denied (publickey).",
		}
	}
	err := copyFiles()
	var ue sdk.UserError
	if errors.As(err, &ue) {
		fmt.Println(ue.Message)
		fmt.Println(ue.Output)
	}
	// Output:
	// Could not copy files. Please ensure that passwordless SSH works for db.example.com.
	// Permission denied (publickey).
}

// A STAGED plugin's linked mount specification: one mount, on the staging
// environment (Python: MountSpecification([Mount(env, path)])).
func ExampleMountSpecification() {
	stagedConnection := sdk.RemoteConnection{
		Environment: sdk.RemoteEnvironment{Name: "staging", Reference: "UNIX_HOST_ENVIRONMENT-2"},
	}
	mount := sdk.Mount{RemoteEnvironment: stagedConnection.Environment, MountPath: "/mnt/provision/stage"}
	spec := sdk.MountSpecification{Mounts: []sdk.Mount{mount}}
	fmt.Println(spec.ValidateStaged())
	b, _ := json.Marshal(spec.Mounts[0].MountPath)
	fmt.Println(string(b))
	// Output:
	// <nil>
	// "/mnt/provision/stage"
}

// Mount onto an environment known only by its reference.
func ExampleEnvironmentByReference() {
	env, err := sdk.EnvironmentByReference("UNIX_HOST_ENVIRONMENT-7")
	fmt.Println(env.Reference, err)
	_, err = sdk.EnvironmentByReference("HOST-7")
	fmt.Println(err)
	// Output:
	// UNIX_HOST_ENVIRONMENT-7 <nil>
	// Reference 'HOST-7' is not a correctly formatted host environment reference.
}
