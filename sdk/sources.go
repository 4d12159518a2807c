package sdk

import (
	"errors"
	"strings"

	"github.com/dvpkit/dvp/sdk/types"
)

// DirectSource is the linked source of a DIRECT plugin, passed to the linked
// operations. P is the plugin's generated LinkedSourceDefinition type (or a
// struct of the plugin's own: the runtime decodes every input with
// types.Unmarshal).
type DirectSource[P any] struct {
	GUID       string           `json:"guid"`
	Connection RemoteConnection `json:"connection"`
	Parameters P                `json:"parameters"`
}

// StagedSource is the linked source of a STAGED plugin, passed to the linked
// operations. P is the plugin's generated LinkedSourceDefinition type (or a
// struct of the plugin's own: the runtime decodes every input with
// types.Unmarshal).
//
// Once the staging storage is mounted, exactly one of Mount and Mounts is
// set: Mount when the mount specification had a single mount (the staging
// mount), Mounts when it had several. linked.mount_specification, which runs
// before the mount, gets neither.
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

// UnmarshalJSON decodes a staged source with types.Unmarshal (names match
// exactly, an unknown member is refused) and applies the platform's rule: a
// request carrying both a non-empty mounts list and a staged mount with a
// path and an environment is rejected; with mounts, Mount is nil, otherwise
// Mounts is nil.
func (s *StagedSource[P]) UnmarshalJSON(b []byte) error {
	type stagedSource StagedSource[P] // without this method
	var p stagedSource
	err := types.Unmarshal(b, &p)
	stagedMountSet := p.Mount != nil && p.Mount.MountPath != "" && p.Mount.RemoteEnvironment.Reference != ""
	if len(p.Mounts) > 0 && stagedMountSet {
		return ErrBothStagedMounts // the platform checks this first
	}
	if err != nil {
		var ves types.ValidationErrors
		if errors.As(err, &ves) {
			for _, ve := range ves { // messages name the type as plugins write it
				ve.Message = strings.ReplaceAll(ve.Message, "sdk.stagedSource[", "sdk.StagedSource[")
			}
		}
		return err
	}
	if len(p.Mounts) > 0 {
		p.Mount = nil
	} else {
		p.Mounts = nil
	}
	*s = StagedSource[P](p)
	return nil
}

// VirtualSource is a virtual source (a VDB), passed to the virtual
// operations. P is the plugin's generated VirtualSourceDefinition type (or a
// struct of the plugin's own). Mounts are the VDB's mounts as its mount
// specification gave them; virtual.mount_specification, which runs before
// the mount, gets none.
type VirtualSource[P any] struct {
	GUID       string           `json:"guid"`
	Connection RemoteConnection `json:"connection"`
	Parameters P                `json:"parameters"`
	Mounts     []Mount          `json:"mounts"`
}
