package sdk

import (
	"fmt"
	"log/slog"
)

// Credentials is what libs.RetrieveCredentials returns: a PasswordCredentials
// or a KeyPairCredentials. Use a type switch:
//
//	switch c := creds.(type) {
//	case sdk.PasswordCredentials: ... c.Password ...
//	case sdk.KeyPairCredentials:  ... c.PrivateKey ...
//	}
//
// Both mask their secrets when printed with fmt or logged with slog.
type Credentials interface {
	// CredentialsUsername returns the user name (empty when the secret
	// had none).
	CredentialsUsername() string
	isCredentials()
}

// PasswordCredentials is a user name and a password.
type PasswordCredentials struct {
	Username string
	Password string
}

// KeyPairCredentials is a user name and an SSH key pair.
type KeyPairCredentials struct {
	Username   string
	PrivateKey string
	PublicKey  string
}

const masked = "******"

// CredentialsUsername returns the user name.
func (c PasswordCredentials) CredentialsUsername() string { return c.Username }
func (PasswordCredentials) isCredentials()                {}

// String masks the password.
func (c PasswordCredentials) String() string {
	return fmt.Sprintf("PasswordCredentials{Username: %q, Password: %s}", c.Username, masked)
}

// GoString masks the password (for %#v).
func (c PasswordCredentials) GoString() string { return "sdk." + c.String() }

// LogValue masks the password in slog records.
func (c PasswordCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", masked))
}

// CredentialsUsername returns the user name.
func (c KeyPairCredentials) CredentialsUsername() string { return c.Username }
func (KeyPairCredentials) isCredentials()                {}

// String masks the private key.
func (c KeyPairCredentials) String() string {
	return fmt.Sprintf("KeyPairCredentials{Username: %q, PrivateKey: %s, PublicKey: %q}", c.Username, masked, c.PublicKey)
}

// GoString masks the private key (for %#v).
func (c KeyPairCredentials) GoString() string { return "sdk." + c.String() }

// LogValue masks the private key in slog records.
func (c KeyPairCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("private_key", masked),
		slog.String("public_key", c.PublicKey))
}
