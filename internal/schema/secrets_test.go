package schema

import (
	"reflect"
	"testing"

	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

func TestFindSecrets(t *testing.T) {
	def := `{
		"type": "object",
		"definitions": {
			"user": {"type": "object", "properties": {"name": {"type": "string"}, "pw": {"type": "string", "format": "password"}, "next": {"$ref": "#/definitions/user"}}}
		},
		"properties": {
			"dbPassword": {"type": "string", "format": "password"},
			"host": {"type": "string"},
			"credentials": {"$ref": "https://delphix.com/platform/api#/definitions/credentialsSupplier"},
			"keys": {"$ref": "https://delphix.com/platform/api#/definitions/keyCredentialsSupplier"},
			"users": {"type": "array", "items": {"$ref": "#/definitions/user"}},
			"tokens": {"type": "object", "additionalProperties": {"type": "string", "format": "password"}},
			"pair": {"type": "array", "items": [{"type": "string"}, {"type": "string", "format": "password"}]},
			"either": {"oneOf": [{"type": "object", "properties": {"a": {"format": "password"}}}, {"type": "object", "properties": {"b": {"type": "string"}}}]}
		},
		"patternProperties": {"^secret_": {"type": "string", "format": "password"}}
	}`
	inst := `{
		"dbPassword": "db-pw", "host": "h",
		"credentials": {"type": "NamedPasswordCredential", "username": "u", "password": "cred-pw"},
		"keys": {"type": "NamedKeyPairCredential", "privateKey": "-----KEY-----", "publicKey": "pub"},
		"users": [{"name": "x", "pw": "u0", "next": {"pw": "u0n", "next": {"pw": "u0nn"}}}, {"name": "y"}],
		"tokens": {"t1": "tok1", "t2": 7},
		"pair": ["not", "p1"],
		"either": {"a": "e-a", "b": "e-b"},
		"secret_x": "sx",
		"other": "o"
	}`
	v, err := jsonschemamsg.DecodeJSON([]byte(inst))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range FindSecrets([]byte(def), v) {
		got[s.Pointer()] = s.Text()
	}
	want := map[string]string{
		"/dbPassword":           "db-pw",
		"/credentials/password": "cred-pw",
		"/keys/privateKey":      "-----KEY-----",
		"/users/0/pw":           "u0",
		"/users/0/next/pw":      "u0n",
		"/users/0/next/next/pw": "u0nn",
		"/tokens/t1":            "tok1",
		"/tokens/t2":            "7",
		"/pair/1":               "p1",
		"/either/a":             "e-a",
		"/secret_x":             "sx",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestFindSecretsOddInputs(t *testing.T) {
	for _, c := range []struct{ def, inst string }{
		{`not json`, `{"a": "b"}`},
		{`{"$ref": "#"}`, `{"a": {"a": "b"}}`}, // a cycle through the root
		{`{"$ref": "#/definitions/x", "definitions": {"x": {"$ref": "#/definitions/x"}}}`, `"s"`}, // a $ref to itself
		{`{"$ref": "https://example.com/s.json"}`, `"s"`},                                         // never loaded
		{`{"properties": {"p": {"format": "password"}}}`, `{"p": {"nested": "object"}}`},
		{`{"items": {"format": "password"}}`, `"not an array"`},
	} {
		v, err := jsonschemamsg.DecodeJSON([]byte(c.inst))
		if err != nil {
			t.Fatal(err)
		}
		if got := FindSecrets([]byte(c.def), v); len(got) != 0 {
			t.Errorf("%s / %s: %v", c.def, c.inst, got)
		}
	}
}
