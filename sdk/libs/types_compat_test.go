package libs

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/types"
)

// The credentials-supplier types of sdk/types (what generated code puts in
// plugin-defined objects) can be handed to RetrieveCredentials unchanged.
var (
	_ CredentialsSupplier = types.CredentialsSupplier{}
	_ CredentialsSupplier = types.KeyCredentialsSupplier{}
	_ CredentialsSupplier = types.PasswordCredentialsSupplier{}
)

func TestRetrieveCredentialsWithTypesSupplier(t *testing.T) {
	raw := `{"type":"NamedPasswordCredential","username":"bob","password":"pw"}`
	var s types.CredentialsSupplier
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Skipf("sdk/types cannot decode a supplier yet: %v", err)
	}
	f := &fakeEngine{answer: func(string, json.RawMessage) (any, error) {
		return protocol.CredentialsResult{Username: "bob", Password: "pw"}, nil
	}}
	if _, err := RetrieveCredentials(context.Background(), s); err != ErrNoEngine {
		t.Fatal(err)
	}
	if _, err := RetrieveCredentials(withEngine(f), s); err != nil {
		t.Fatal(err)
	}
	var p protocol.RetrieveCredentialsParams
	_ = json.Unmarshal(f.params[0], &p)
	if string(p.CredentialsSupplier) != raw {
		t.Fatalf("sent %s", p.CredentialsSupplier)
	}
}
