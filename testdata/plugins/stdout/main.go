// Command stdout is a test plugin that writes to stdout in every way it can.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/dvpkit/dvp/sdk/runtime"
)

func init() {
	fmt.Print("noise from init, before the runtime takes over stdout")
}

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			"discovery.repository": func(ctx context.Context, _ json.RawMessage) (any, error) {
				fmt.Println("garbage from fmt.Println")
				os.Stdout.WriteString("garbage from os.Stdout\n")
				syscall.Write(1, []byte("garbage on descriptor 1\n"))
				cmd := exec.Command("echo", "garbage from a child process")
				cmd.Stdout = os.Stdout
				if err := cmd.Run(); err != nil {
					return nil, err
				}
				var buf [16]byte
				n, _ := os.Stdin.Read(buf[:]) // stdin is /dev/null: no protocol bytes
				return []map[string]any{{"name": "clean", "stdinBytes": n}}, nil
			},
		},
	})
}
