package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

// The attack on the engine's memory through the secrets it learns
// (internal/engine/e2e hostile_secrets_test.go), on the environment named
// "secrets": retrieve_credentials of suppliers the plugin makes up, each
// with a new password: 300 of 1 MiB, then 2000 of 32 KiB. The engine registers every
// secret a plugin obtains, so that no log shows it, and kept each for as
// long as it ran.
func secretsAttack(ctx context.Context, conn sdk.RemoteConnection) (report, bool) {
	if conn.Environment.Name != "secrets" {
		return nil, false
	}
	var r report
	r.add("secrets-big", retrieveMany(ctx, 300, 512<<10))
	r.add("secrets-many", retrieveMany(ctx, 2000, 16<<10))
	return r, true
}

// retrieveMany makes n retrieve_credentials calls, each with a new random
// password of 2 x half bytes (hex), and says how many were refused and why.
func retrieveMany(ctx context.Context, n, half int) string {
	ok, refused, why := 0, 0, ""
	raw := make([]byte, half)
	for range n {
		rand.Read(raw)
		supplier, _ := json.Marshal(map[string]string{"type": "NamedPasswordCredential", "username": "u", "password": hex.EncodeToString(raw)})
		if _, err := libs.RetrieveCredentials(ctx, libs.RawSupplier(supplier)); err != nil {
			refused++
			why = err.Error()
		} else {
			ok++
		}
	}
	return fmt.Sprintf("%d retrieved, %d refused: %s", ok, refused, why)
}
