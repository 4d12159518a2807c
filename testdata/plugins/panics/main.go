// Command panics is a test plugin whose operations panic.
package main

import (
	"context"
	"encoding/json"
	goruntime "runtime"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/runtime"
)

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			// A panic in the operation: a user-visible error, the process lives on.
			"discovery.repository": func(ctx context.Context, _ json.RawMessage) (any, error) {
				var m map[string]int
				m["boom"] = 1
				return nil, nil
			},
			// A panic in a goroutine cannot be recovered: the process dies.
			"discovery.source_config": func(ctx context.Context, _ json.RawMessage) (any, error) {
				go func() { panic("panic in a goroutine") }()
				time.Sleep(10 * time.Second)
				return []any{}, nil
			},
			"linked.worker": func(ctx context.Context, _ json.RawMessage) (any, error) {
				goruntime.Goexit()
				return nil, nil
			},
			"linked.status": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return sdk.StatusActive, nil
			},
		},
	})
}
