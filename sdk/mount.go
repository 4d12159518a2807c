package sdk

import (
	"fmt"
	"regexp"
	"sync"
)

// Mount says where the engine mounts storage on an environment.
//
// RemoteEnvironment is usually the environment of a connection the operation
// received (for example staged_source.StagedConnection.Environment); to mount
// onto another environment known only by its reference, use
// EnvironmentByReference.
type Mount struct {
	RemoteEnvironment RemoteEnvironment `json:"remote_environment"`
	// MountPath is the absolute path on the environment to mount onto.
	MountPath string `json:"mount_path"`
	// SharedPath is the subset of the dataset's filesystem to mount at
	// MountPath; empty mounts all of it. Not allowed on the single mount
	// of a staged source.
	SharedPath string `json:"shared_path,omitempty"`
}

// OwnershipSpecification gives the owner of the mounted files (Unix only;
// when omitted the engine uses the environment user).
type OwnershipSpecification struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
}

// MountSpecification is what the mount_specification operations return: the
// mounts and, optionally, who owns them.
type MountSpecification struct {
	Mounts                 []Mount                 `json:"mounts"`
	OwnershipSpecification *OwnershipSpecification `json:"ownership_specification,omitempty"`
}

var hostEnvironmentReference = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(UNIX|WINDOWS)_HOST_ENVIRONMENT-[0-9]+$`) })

// ReferenceFormatError is returned by EnvironmentByReference for a string that
// is not a host environment reference.
type ReferenceFormatError struct {
	Reference string
}

// Error says that the reference is not a host environment reference.
func (e *ReferenceFormatError) Error() string {
	return fmt.Sprintf("Reference '%s' is not a correctly formatted host environment reference.", e.Reference)
}

// EnvironmentByReference returns a RemoteEnvironment that designates the
// environment with the given engine reference, for use in a Mount. The
// reference must look like UNIX_HOST_ENVIRONMENT-<n> or
// WINDOWS_HOST_ENVIRONMENT-<n>; only the reference is filled in, the engine
// resolves the rest.
func EnvironmentByReference(reference string) (RemoteEnvironment, error) {
	if !hostEnvironmentReference().MatchString(reference) {
		return RemoteEnvironment{}, &ReferenceFormatError{Reference: reference}
	}
	return RemoteEnvironment{Reference: reference}, nil
}

// MountError reports a mount specification that the engine cannot use.
type MountError struct {
	Message string
}

// Error returns the message.
func (e *MountError) Error() string { return e.Message }

// Validate checks what the Go types cannot: every mount names an environment
// and a mount path, and the ownership ids are not negative. It is the check
// applied to the result of virtual.mount_specification.
func (m MountSpecification) Validate() error {
	for i, mt := range m.Mounts {
		if mt.RemoteEnvironment.Reference == "" {
			return &MountError{Message: fmt.Sprintf(
				"Mount %d of the mount specification (mount path '%s') has no remote environment: set RemoteEnvironment to the environment of a connection, or use sdk.EnvironmentByReference.",
				i+1, mt.MountPath)}
		}
		if mt.MountPath == "" {
			return &MountError{Message: fmt.Sprintf(
				"Mount %d of the mount specification (environment '%s') has an empty mount path.",
				i+1, mt.RemoteEnvironment.Reference)}
		}
	}
	if o := m.OwnershipSpecification; o != nil {
		if o.UID < 0 {
			return &MountError{Message: fmt.Sprintf("OwnershipSpecification's parameter 'uid' was %d but should be a non-negative integer.", o.UID)}
		}
		if o.GID < 0 {
			return &MountError{Message: fmt.Sprintf("OwnershipSpecification's parameter 'gid' was %d but should be a non-negative integer.", o.GID)}
		}
	}
	return nil
}

// ValidateStaged applies Validate and the rules for the result of
// linked.mount_specification of a STAGED plugin: at least one mount, and no
// shared path when there is exactly one (the whole staging dataset is
// mounted).
func (m MountSpecification) ValidateStaged() error {
	if len(m.Mounts) == 0 {
		return &MountError{Message: "Mount must be provided for staging sources. Found 0 mounts."}
	}
	if len(m.Mounts) == 1 && m.Mounts[0].SharedPath != "" {
		return &MountError{Message: "Shared path is not supported for linked sources."}
	}
	return m.Validate()
}
