// Command wrongshape is a test plugin whose operations return results of the
// wrong shape.
package main

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/runtime"
)

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("MarshalJSON exploded") }

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
				StagedSource sdk.StagedSource[map[string]any] `json:"staged_source"`
			}) (*sdk.MountSpecification, error) {
				return nil, nil // forgot the mount specification
			}),
			"discovery.repository": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return []string{"not an object"}, nil
			},
			"discovery.source_config": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return make(chan int), nil
			},
			"linked.status": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return sdk.Status(7), nil
			},
			"linked.post_snapshot": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return panicky{}, nil
			},
			"virtual.configure": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return "a string", nil
			},
			"virtual.mount_specification": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return sdk.MountSpecification{Mounts: []sdk.Mount{{MountPath: "/mnt/x"}}}, nil
			},
			"virtual.status": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return sdk.StatusActive, nil
			},
		},
	})
}
