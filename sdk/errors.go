package sdk

// DefaultUserErrorAction is the action the engine shows when an operation
// failed without saying what the user should do.
const DefaultUserErrorAction = "Contact the plugin author to correct the error."

// UserError fails an operation with a message meant for the engine's user.
// Return it (or wrap it) from an operation:
//
//	return &sdk.UserError{
//		Message: "Could not copy files from " + host + ".",
//		Action:  "Check that passwordless SSH works from the staging host.",
//		Output:  result.Stderr,
//	}
//
// Action defaults to DefaultUserErrorAction on the engine; Output is extra
// detail (for example a command's output).
type UserError struct {
	Message string
	Action  string
	Output  string
}

// Error returns the message.
func (e UserError) Error() string { return e.Message }
