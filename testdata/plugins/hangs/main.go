// Command hangs is a test plugin whose operations do not finish on their own.
package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/runtime"
)

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			// Ignores cancellation: must be killed.
			"discovery.repository": func(ctx context.Context, _ json.RawMessage) (any, error) {
				for {
					time.Sleep(time.Hour)
				}
			},
			// Honours cancellation.
			"discovery.source_config": func(ctx context.Context, _ json.RawMessage) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
			// Waits in a library call; cancellation stops the command.
			"linked.worker": func(ctx context.Context, _ json.RawMessage) (any, error) {
				conn := sdk.RemoteConnection{Environment: sdk.RemoteEnvironment{Reference: "UNIX_HOST_ENVIRONMENT-1"}}
				_, err := libs.RunBash(ctx, conn, "sleep 30")
				return nil, err
			},
			"linked.status": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return sdk.StatusActive, nil
			},
		},
	})
}
