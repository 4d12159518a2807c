package types

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// The values of the "type" property of a credentials supplier: which of the
// documented variants it is.
const (
	NamedPasswordCredentialType  = "NamedPasswordCredential"
	NamedKeyPairCredentialType   = "NamedKeyPairCredential"
	CyberArkVaultCredentialType  = "CyberArkVaultCredential"
	HashiCorpVaultCredentialType = "HashiCorpVaultCredential"
	AzureVaultCredentialType     = "AzureVaultCredential"
)

// NamedPasswordCredential is the variant of a credentials supplier where the
// user typed a user name (optional) and a password.
type NamedPasswordCredential struct {
	Type     string   `json:"type"`
	Username string   `json:"username,omitempty"`
	Password Password `json:"password"`
}

// LogValue masks the password for log/slog (fmt already masks it, field by
// field).
func (c NamedPasswordCredential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", c.Type), slog.String("username", c.Username), slog.String("password", Mask))
}

// NamedKeyPairCredential is the variant where the user gave a user name
// (optional), a private key and (optionally) its public key.
type NamedKeyPairCredential struct {
	Type       string   `json:"type"`
	Username   string   `json:"username,omitempty"`
	PublicKey  string   `json:"publicKey,omitempty"`
	PrivateKey Password `json:"privateKey"`
}

// LogValue masks the private key for log/slog.
func (c NamedKeyPairCredential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", c.Type), slog.String("username", c.Username),
		slog.String("publicKey", c.PublicKey), slog.String("privateKey", Mask))
}

// CyberArkVaultCredential is the variant that designates a secret in a
// CyberArk vault configured on the engine. ExpectedSecretType is "any"
// (the default when empty), "password" or "keyPair".
type CyberArkVaultCredential struct {
	Type               string `json:"type"`
	Vault              string `json:"vault"`
	QueryString        string `json:"queryString"`
	ExpectedSecretType string `json:"expectedSecretType,omitempty"`
}

// HashiCorpVaultCredential is the variant that designates a secret in a
// HashiCorp vault configured on the engine.
type HashiCorpVaultCredential struct {
	Type               string `json:"type"`
	Vault              string `json:"vault"`
	Engine             string `json:"engine"`
	Path               string `json:"path"`
	UsernameKey        string `json:"usernameKey"`
	SecretKey          string `json:"secretKey"`
	ExpectedSecretType string `json:"expectedSecretType,omitempty"`
}

// AzureVaultCredential is the variant that designates a secret in an Azure
// key vault configured on the engine.
type AzureVaultCredential struct {
	Type               string `json:"type"`
	Vault              string `json:"vault"`
	AzureVaultName     string `json:"azureVaultName"`
	UsernameKey        string `json:"usernameKey"`
	SecretKey          string `json:"secretKey"`
	ExpectedSecretType string `json:"expectedSecretType,omitempty"`
}

// supplier is the shared implementation of the three supplier types: the
// JSON object exactly as the engine sent it.
type supplier struct {
	raw json.RawMessage
}

// RawJSON returns (a copy of) the JSON the engine sent, unmodified: pass the
// supplier to libs.RetrieveCredentials, which needs exactly that.
func (s supplier) RawJSON() json.RawMessage { return bytes.Clone(s.raw) }

// IsZero reports whether the supplier holds nothing (an absent optional
// property).
func (s supplier) IsZero() bool { return len(s.raw) == 0 }

// Type returns the variant: the "type" property (see the *CredentialType
// constants), or "" when there is none.
func (s supplier) Type() string {
	var d Decoder
	for k, v := range d.Object(s.raw) {
		if k == "type" {
			return d.String(v)
		}
	}
	return ""
}

func (s supplier) as(variant string, out any) bool {
	if s.Type() != variant {
		return false
	}
	// The platform's schemas of the variants allow properties the Go types
	// do not declare: those are skipped; the declared ones match exactly.
	return unmarshalKnown(s.raw, out) == nil
}

// NamedPassword returns the supplier as a NamedPasswordCredential, if it is one.
func (s supplier) NamedPassword() (c NamedPasswordCredential, ok bool) {
	ok = s.as(NamedPasswordCredentialType, &c)
	return c, ok
}

// NamedKeyPair returns the supplier as a NamedKeyPairCredential, if it is one.
func (s supplier) NamedKeyPair() (c NamedKeyPairCredential, ok bool) {
	ok = s.as(NamedKeyPairCredentialType, &c)
	return c, ok
}

// CyberArkVault returns the supplier as a CyberArkVaultCredential, if it is one.
func (s supplier) CyberArkVault() (c CyberArkVaultCredential, ok bool) {
	ok = s.as(CyberArkVaultCredentialType, &c)
	return c, ok
}

// HashiCorpVault returns the supplier as a HashiCorpVaultCredential, if it is one.
func (s supplier) HashiCorpVault() (c HashiCorpVaultCredential, ok bool) {
	ok = s.as(HashiCorpVaultCredentialType, &c)
	return c, ok
}

// AzureVault returns the supplier as an AzureVaultCredential, if it is one.
func (s supplier) AzureVault() (c AzureVaultCredential, ok bool) {
	ok = s.as(AzureVaultCredentialType, &c)
	return c, ok
}

// MarshalJSON returns the JSON exactly as received (null when empty).
func (s supplier) MarshalJSON() ([]byte, error) {
	if len(s.raw) == 0 {
		return []byte("null"), nil
	}
	return bytes.Clone(s.raw), nil
}

// UnmarshalJSON keeps data (a JSON object) as it is.
func (s *supplier) UnmarshalJSON(data []byte) error {
	if err := CheckSyntax(data); err != nil {
		return err
	}
	var d Decoder
	if !d.Expect(data, JSONObject) {
		return d.Err()
	}
	s.raw = bytes.Clone(bytes.TrimSpace(data))
	return nil
}

func (s supplier) describe(name string) string {
	if t := s.Type(); t != "" {
		return name + "{type: " + t + ", " + Mask + "}"
	}
	return name + "{" + Mask + "}"
}

func (s supplier) format(name string, f fmt.State, verb rune) {
	text := s.describe(name)
	if verb == 'v' && f.Flag('#') {
		text = "types." + text
	}
	io.WriteString(f, text)
}

// validate checks the documented shape: a "type" string and, for the
// documented variants, their required string properties. Variants other
// than the documented ones are accepted as they are (the engine defines
// them). allowed lists the variants this supplier kind may hold (nil: all);
// secretType, when set, is the value a vault variant's expectedSecretType
// must have (and then it is required).
func (s supplier) validate(allowed []string, secretType string) error {
	var d Decoder
	if len(s.raw) == 0 {
		return Invalid("credentials supplier is empty")
	}
	if !d.Expect(s.raw, JSONObject) {
		return d.Err()
	}
	fields := map[string][]byte{}
	for k, v := range d.Object(s.raw) {
		fields[k] = v
	}
	var v Validator
	str := func(name string, required bool) (string, bool) {
		raw, ok := fields[name]
		if !ok {
			if required {
				v.Required(false, name)
			}
			return "", false
		}
		var dd Decoder
		val := dd.String(raw, name)
		v.Nest(dd.Err())
		return val, dd.Err() == nil
	}
	t, ok := str("type", true)
	if !ok {
		return v.Err()
	}
	if allowed != nil {
		known := false
		for _, a := range []string{NamedPasswordCredentialType, NamedKeyPairCredentialType, CyberArkVaultCredentialType, HashiCorpVaultCredentialType, AzureVaultCredentialType} {
			known = known || a == t
		}
		permitted := false
		for _, a := range allowed {
			permitted = permitted || a == t
		}
		if known && !permitted {
			v.add(fmt.Sprintf("credentials of type %q are not allowed here", t), []any{"type"})
			return v.Err()
		}
	}
	vault := false
	switch t {
	case NamedPasswordCredentialType:
		str("username", false)
		str("password", true)
	case NamedKeyPairCredentialType:
		str("username", false)
		str("publicKey", false)
		str("privateKey", true)
	case CyberArkVaultCredentialType:
		vault = true
		str("vault", true)
		str("queryString", true)
	case HashiCorpVaultCredentialType:
		vault = true
		for _, f := range []string{"vault", "engine", "path", "usernameKey", "secretKey"} {
			str(f, true)
		}
	case AzureVaultCredentialType:
		vault = true
		for _, f := range []string{"vault", "azureVaultName", "usernameKey", "secretKey"} {
			str(f, true)
		}
	}
	if vault {
		if est, ok := str("expectedSecretType", secretType != ""); ok {
			switch {
			case secretType != "" && est != secretType:
				v.add(fmt.Sprintf("must be %q", secretType), []any{"expectedSecretType"})
			case est != "any" && est != "password" && est != "keyPair":
				v.add(`must be one of "any", "password", "keyPair"`, []any{"expectedSecretType"})
			}
		}
	}
	return v.Err()
}

// CredentialsSupplier is the Go type of a property whose schema is
// {"$ref": "https://delphix.com/platform/api#/definitions/credentialsSupplier"}:
// credentials the user typed (a password or a key pair) or the designation
// of a secret in a password vault. It keeps the engine's JSON exactly
// (RawJSON) so that it can be handed to libs.RetrieveCredentials; Type and
// the typed accessors (NamedPassword, NamedKeyPair, CyberArkVault,
// HashiCorpVault, AzureVault) read it. It never prints its content: fmt and
// log/slog show the variant and Mask.
type CredentialsSupplier struct{ supplier }

// NewCredentialsSupplier builds a supplier from v: JSON (json.RawMessage or
// []byte) or a value that encodes to a JSON object, such as a
// NamedPasswordCredential. It checks the result with Validate.
func NewCredentialsSupplier(v any) (CredentialsSupplier, error) {
	s, err := newSupplier(v)
	c := CredentialsSupplier{s}
	if err == nil {
		err = c.Validate()
	}
	return c, err
}

// Validate checks the documented shape of the supplier (see the type's doc).
func (c CredentialsSupplier) Validate() error { return c.validate(nil, "") }

// String shows the variant, never the content.
func (c CredentialsSupplier) String() string { return c.describe("CredentialsSupplier") }

// GoString shows the variant, never the content.
func (c CredentialsSupplier) GoString() string { return "types." + c.String() }

// Format shows the variant, never the content, whatever the verb.
func (c CredentialsSupplier) Format(f fmt.State, verb rune) {
	c.format("CredentialsSupplier", f, verb)
}

// LogValue shows the variant, never the content.
func (c CredentialsSupplier) LogValue() slog.Value { return slog.StringValue(c.String()) }

// KeyCredentialsSupplier is the Go type of a $ref to
// https://delphix.com/platform/api#/definitions/keyCredentialsSupplier: like
// CredentialsSupplier, but the secret must be a key pair (variants
// NamedKeyPairCredential and the vaults, whose expectedSecretType must be
// "keyPair").
type KeyCredentialsSupplier struct{ supplier }

// NewKeyCredentialsSupplier is NewCredentialsSupplier for key suppliers.
func NewKeyCredentialsSupplier(v any) (KeyCredentialsSupplier, error) {
	s, err := newSupplier(v)
	c := KeyCredentialsSupplier{s}
	if err == nil {
		err = c.Validate()
	}
	return c, err
}

// Validate checks the documented shape of a key credentials supplier.
func (c KeyCredentialsSupplier) Validate() error {
	return c.validate([]string{NamedKeyPairCredentialType, CyberArkVaultCredentialType, HashiCorpVaultCredentialType, AzureVaultCredentialType}, "keyPair")
}

// String shows the variant, never the content.
func (c KeyCredentialsSupplier) String() string { return c.describe("KeyCredentialsSupplier") }

// GoString shows the variant, never the content.
func (c KeyCredentialsSupplier) GoString() string { return "types." + c.String() }

// Format shows the variant, never the content, whatever the verb.
func (c KeyCredentialsSupplier) Format(f fmt.State, verb rune) {
	c.format("KeyCredentialsSupplier", f, verb)
}

// LogValue shows the variant, never the content.
func (c KeyCredentialsSupplier) LogValue() slog.Value { return slog.StringValue(c.String()) }

// PasswordCredentialsSupplier is the Go type of a $ref to
// https://delphix.com/platform/api#/definitions/passwordCredentialsSupplier:
// like CredentialsSupplier, but the secret must be a password (variants
// NamedPasswordCredential and the vaults, whose expectedSecretType must be
// "password").
type PasswordCredentialsSupplier struct{ supplier }

// NewPasswordCredentialsSupplier is NewCredentialsSupplier for password
// suppliers.
func NewPasswordCredentialsSupplier(v any) (PasswordCredentialsSupplier, error) {
	s, err := newSupplier(v)
	c := PasswordCredentialsSupplier{s}
	if err == nil {
		err = c.Validate()
	}
	return c, err
}

// Validate checks the documented shape of a password credentials supplier.
func (c PasswordCredentialsSupplier) Validate() error {
	return c.validate([]string{NamedPasswordCredentialType, CyberArkVaultCredentialType, HashiCorpVaultCredentialType, AzureVaultCredentialType}, "password")
}

// String shows the variant, never the content.
func (c PasswordCredentialsSupplier) String() string {
	return c.describe("PasswordCredentialsSupplier")
}

// GoString shows the variant, never the content.
func (c PasswordCredentialsSupplier) GoString() string { return "types." + c.String() }

// Format shows the variant, never the content, whatever the verb.
func (c PasswordCredentialsSupplier) Format(f fmt.State, verb rune) {
	c.format("PasswordCredentialsSupplier", f, verb)
}

// LogValue shows the variant, never the content.
func (c PasswordCredentialsSupplier) LogValue() slog.Value { return slog.StringValue(c.String()) }

func newSupplier(v any) (supplier, error) {
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return supplier{}, err
		}
		raw = b
	}
	var s supplier
	err := s.UnmarshalJSON(raw)
	return s, err
}
