// Command toolarge is a test plugin whose output exceeds the 4 MiB limit.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/dvpkit/dvp/sdk/runtime"
)

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			"virtual.configure": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return map[string]string{"blob": strings.Repeat("x", 5<<20)}, nil
			},
			// Library traffic may be much larger than 4 MiB.
			"linked.worker": func(ctx context.Context, _ json.RawMessage) (any, error) {
				slog.InfoContext(ctx, strings.Repeat("y", 6<<20))
				return nil, nil
			},
			"discovery.repository": func(ctx context.Context, _ json.RawMessage) (any, error) {
				return []map[string]string{{"name": "small"}}, nil
			},
		},
	})
}
