package sdk

import (
	"encoding/json"
	"errors"
)

// DirectSource is the linked source of a DIRECT plugin, passed to the linked
// operations. P is the plugin's generated LinkedSourceDefinition type.
type DirectSource[P any] struct {
	GUID       string           `json:"guid"`
	Connection RemoteConnection `json:"connection"`
	Parameters P                `json:"parameters"`
}

// StagedSource is the linked source of a STAGED plugin, passed to the linked
// operations. P is the plugin's generated LinkedSourceDefinition type.
//
// Exactly one of Mount and Mounts is set: Mount when the mount specification
// had a single mount (the staging mount), Mounts when it had several.
type StagedSource[P any] struct {
	GUID             string           `json:"guid"`
	SourceConnection RemoteConnection `json:"source_connection"`
	StagedConnection RemoteConnection `json:"staged_connection"`
	Parameters       P                `json:"parameters"`
	Mount            *Mount           `json:"staged_mount,omitempty"`
	Mounts           []Mount          `json:"mounts,omitempty"`
}

// ErrBothStagedMounts is returned when decoding a StagedSource that carries
// both a staged mount and a list of mounts. Its text is the platform's.
//
//lint:ignore ST1005 the message is the platform's, word for word
var ErrBothStagedMounts = errors.New("Either staged_mount or mounts can be present for staging source. Found both staged_mount and mounts.")

// UnmarshalJSON decodes a staged source and applies the platform's rule: a
// request carrying both a non-empty mounts list and a staged mount with a
// path and an environment is rejected; with mounts, Mount is nil, otherwise
// Mounts is nil.
func (s *StagedSource[P]) UnmarshalJSON(b []byte) error {
	type plain StagedSource[P]
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	stagedMountSet := p.Mount != nil && p.Mount.MountPath != "" && p.Mount.RemoteEnvironment.Reference != ""
	if len(p.Mounts) > 0 {
		if stagedMountSet {
			return ErrBothStagedMounts
		}
		p.Mount = nil
	} else {
		p.Mounts = nil
	}
	*s = StagedSource[P](p)
	return nil
}

// VirtualSource is a virtual source (a VDB), passed to the virtual
// operations. P is the plugin's generated VirtualSourceDefinition type.
type VirtualSource[P any] struct {
	GUID       string           `json:"guid"`
	Connection RemoteConnection `json:"connection"`
	Parameters P                `json:"parameters"`
	Mounts     []Mount          `json:"mounts"`
}
