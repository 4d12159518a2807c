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

// FuzzFindSecrets: any definition and instance; no panic, and every secret
// found is at a path that exists in the instance, with the value there.
//
//	go test -run '^$' -fuzz '^FuzzFindSecrets$' -fuzztime 5m -parallel 1 ./internal/schema/
func FuzzFindSecrets(f *testing.F) {
	f.Add(`{"properties": {"p": {"format": "password"}}}`, `{"p": "x"}`)
	f.Add(`{"properties": {"c": {"$ref": "https://delphix.com/platform/api#/definitions/credentialsSupplier"}}}`, `{"c": {"type": "NamedKeyPairCredential", "privateKey": "k"}}`)
	f.Add(`{"items": [{"format": "password"}], "additionalItems": {"$ref": "#"}}`, `["a", ["b"], 1]`)
	f.Add(`{"patternProperties": {"^s": {"format": "password"}, "(": {}}, "additionalProperties": {"anyOf": [{"$ref": "#"}, {"format": "password"}]}}`, `{"s1": "x", "t": {"s2": 5}}`)
	f.Add(`{"allOf": [{"$ref": "#/definitions/a"}], "definitions": {"a": {"$ref": "#/definitions/a/x~1y"}, "a/x": 1}}`, `null`)
	f.Fuzz(func(t *testing.T, def, inst string) {
		v, err := jsonschemamsg.DecodeJSON([]byte(inst))
		if err != nil {
			return
		}
		for _, s := range FindSecrets([]byte(def), v) {
			node, ok := jsonschemamsg.Lookup(v, s.Path)
			if !ok {
				t.Fatalf("%s: not in the instance", s.Pointer())
			}
			if !reflect.DeepEqual(node, s.Value) {
				t.Fatalf("%s: %v, the instance has %v", s.Pointer(), s.Value, node)
			}
		}
	})
}
