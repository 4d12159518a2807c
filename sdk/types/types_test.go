package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

const secret = "hunter2-SECRET"

func TestPasswordNeverPrints(t *testing.T) {
	p := Password(secret)
	type holder struct {
		P   Password
		PP  *Password
		Ps  []Password
		Pm  map[string]Password
		Any any
	}
	h := holder{P: p, PP: &p, Ps: []Password{p}, Pm: map[string]Password{"k": p}, Any: p}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%-5v", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, p), fmt.Sprintf(verb, &p), fmt.Sprintf(verb, h), fmt.Sprintf(verb, []any{p}))
	}
	outputs = append(outputs, fmt.Sprint(p), fmt.Sprintln(p, h), p.String(), p.GoString())
	var buf bytes.Buffer
	log.New(&buf, "", 0).Print(p, h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "p", p, "pp", &p)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "p", p, "pp", &p, slog.Any("a", p))
	outputs = append(outputs, buf.String())
	for _, o := range outputs {
		if strings.Contains(o, secret) || strings.Contains(o, fmt.Sprintf("%x", secret)) {
			t.Errorf("the password leaked: %s", o)
		}
	}
	if got := fmt.Sprintf("%v|%q|%#v", p, p, p); got != `[REDACTED]|"[REDACTED]"|types.Password("[REDACTED]")` {
		t.Errorf("masks = %s", got)
	}
	b, err := json.Marshal(h)
	if err != nil || strings.Count(string(b), secret) != 5 {
		t.Errorf("JSON must carry the real value: %s %v", b, err)
	}
	if p.Reveal() != secret {
		t.Error("Reveal")
	}
	var back Password
	if err := json.Unmarshal([]byte(`"x\u00e9"`), &back); err != nil || back.Reveal() != "xé" {
		t.Errorf("UnmarshalJSON = %q, %v", back.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`1`), &back); err == nil {
		t.Error("a number decoded as a password")
	}
}

func TestPointer(t *testing.T) {
	if got := Pointer(); got != "" {
		t.Errorf("Pointer() = %q", got)
	}
	if got := Pointer("a/b", 2, "c~d", ""); got != "/a~1b/2/c~0d/" {
		t.Errorf("Pointer = %q", got)
	}
}

func TestValidationErrors(t *testing.T) {
	var v Validator
	v.MinLength("ab", 3, "name")
	v.Nest(ValidationErrors{{Path: "/x", Message: "inner"}}, "outer", 1)
	v.Nest(errors.New("plain"), "p")
	v.Nest(nil, "nothing")
	err := v.Err()
	want := "/name: length must be >= 3 (got 2)\n/outer/1/x: inner\n/p: plain"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Path != "/name" {
		t.Errorf("errors.As = %v", ve)
	}
	var empty Validator
	if empty.Err() != nil {
		t.Error("no problems must be a nil error")
	}
	if got := Invalid("bad").Error(); got != "bad" {
		t.Errorf("Invalid = %q", got)
	}
}

func TestValidatorChecks(t *testing.T) {
	var v Validator
	re := regexp.MustCompile(`^\d+$`)
	v.MinLength("日本", 2, "ok")
	v.MaxLength("日本語", 2, "s")
	v.Pattern("12a", re, "p")
	v.Pattern("123", re, "ok")
	v.MinimumInt(0, 1, "a")
	v.MaximumInt(2, 1, "b")
	v.ExclusiveMinimumInt(1, 1, "c")
	v.ExclusiveMaximumInt(1, 1, "d")
	v.MultipleOfInt(7, 5, "e")
	v.Minimum(0.5, 1, "f")
	v.Maximum(2, 1.5, "g")
	v.ExclusiveMinimum(1, 1, "h")
	v.ExclusiveMaximum(1, 1, "i")
	v.MultipleOf(0.3, 0.1, "ok")
	v.MultipleOf(0.35, 0.1, "j")
	v.MinItems(0, 1, "k")
	v.MaxItems(3, 2, "l")
	v.MinProperties(0, 1, "m")
	v.MaxProperties(2, 1, "n")
	UniqueItems(&v, []string{"a", "b", "a"}, "o")
	UniqueItemsJSON(&v, []any{map[string]any{"a": 1, "b": 2}, map[string]any{"b": 2.0, "a": 1}}, "q")
	UniqueItemsJSON(&v, []json.RawMessage{json.RawMessage(`{"a": 1}`), json.RawMessage(`{"a":1.0}`)}, "r")
	v.EnumJSON(json.RawMessage(`{"b":[1.0],"a":null}`), []string{`{"a":null,"b":[1]}`}, "ok")
	v.EnumJSON(true, []string{"false"}, "s2")
	v.Required(false, "t")
	v.Required(true, "ok")
	want := []string{
		"/s: length must be <= 2 (got 3)",
		`/p: must match the pattern "^\\d+$"`,
		"/a: must be >= 1 (got 0)",
		"/b: must be <= 1 (got 2)",
		"/c: must be > 1 (got 1)",
		"/d: must be < 1 (got 1)",
		"/e: must be a multiple of 5 (got 7)",
		"/f: must be >= 1 (got 0.5)",
		"/g: must be <= 1.5 (got 2)",
		"/h: must be > 1 (got 1)",
		"/i: must be < 1 (got 1)",
		"/j: must be a multiple of 0.1 (got 0.35)",
		"/k: must have at least 1 item (got 0)",
		"/l: must have at most 2 items (got 3)",
		"/m: must have at least 1 property (got 0)",
		"/n: must have at most 1 property (got 2)",
		"/o: items 0 and 2 are equal; items must be unique",
		"/q: items 0 and 1 are equal; items must be unique",
		"/r: items 0 and 1 are equal; items must be unique",
		"/s2: must be one of false",
		"/t: required property is missing",
	}
	got := strings.Split(v.Err().Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecoder(t *testing.T) {
	var d Decoder
	data := []byte(` { "s" : "a\"b\u00e9" , "i": 1.0e2, "big": 9223372036854775807, "neg": -0, "f": 1.5, "b": false, "n": null,
		"arr": [1, [2, {"x": "]"}], "}"], "o": {"k\/ey": {}}, "esc\u0041": 1 } `)
	got := map[string]any{}
	for k, raw := range d.Object(data) {
		switch k {
		case "s":
			got[k] = d.String(raw, k)
		case "i", "big", "neg":
			got[k] = d.Int(raw, k)
		case "f":
			got[k] = d.Number(raw, k)
		case "b":
			got[k] = d.Bool(raw, k)
		case "n":
			got[k] = string(d.Raw(raw, JSONNull, k))
		case "arr":
			var items []string
			for i, it := range d.Array(raw, k) {
				items = append(items, fmt.Sprint(i, ":", string(it)))
			}
			got[k] = strings.Join(items, " ")
		case "o":
			for k2 := range d.Object(raw, k) {
				got["o.key"] = k2
			}
		default:
			got[k] = "seen"
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "a\"bé", "i": int64(100), "big": int64(9223372036854775807), "neg": int64(0), "f": 1.5, "b": false, "n": "null",
		"arr": `0:1 1:[2, {"x": "]"}] 2:"}"`, "o.key": "k/ey", "escA": "seen"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	var e Decoder
	e.Int([]byte("1.5"), "a")
	e.Int([]byte("1e400"), "b")
	e.Int([]byte("-9223372036854775809"), "c")
	e.Int([]byte(`"1"`), "d")
	e.Number([]byte("1e400"), "e")
	e.String([]byte("null"), "f")
	e.Bool([]byte("1"), "g")
	e.Raw([]byte("1.5"), JSONInteger|JSONString, "h")
	e.Raw([]byte("2.0"), JSONInteger, "ok")
	for range e.Object([]byte("[]"), "i") {
	}
	for range e.Array([]byte("{}"), "j") {
	}
	e.Required(false, "k")
	e.Unknown("l")
	wantErrs := []string{
		"/a: expected integer, got a number with a fractional part",
		"/b: integer is out of the range of int64",
		"/c: integer is out of the range of int64",
		"/d: expected integer, got string",
		"/e: number is out of the range of float64",
		"/f: expected string, got null",
		"/g: expected boolean, got number",
		"/h: expected string or integer, got number",
		"/i: expected object, got array",
		"/j: expected array, got object",
		"/k: required property is missing",
		"/l: property is not allowed (the schema has additionalProperties: false)",
	}
	if got := e.Err().Error(); got != strings.Join(wantErrs, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(wantErrs, "\n"))
	}
}

// FuzzDecoder checks that the decoder never panics or loops, whatever the
// input (generated code only gives it valid JSON, but it is exported).
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `{`, `{"a"`, `{"a":}`, `[1,`, `"\`, `{"a":1,}`, `]`, `{"\u12":1}`, ``, `nul`, `{"a" "b"}`, `[[[[`, `}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		var walk func(raw []byte, depth int)
		walk = func(raw []byte, depth int) {
			if depth > 20 {
				return
			}
			for _, v := range d.Object(raw) {
				walk(v, depth+1)
			}
			for _, v := range d.Array(raw) {
				walk(v, depth+1)
			}
			d.String(raw)
			d.Int(raw)
			d.Number(raw)
			d.Bool(raw)
			d.Raw(raw, JSONAny)
		}
		walk(data, 0)
		CheckSyntax(data)
	})
}

func TestMarshalObject(t *testing.T) {
	type decl struct {
		A int `json:"a"`
	}
	b, err := MarshalObject(decl{1}, map[string]json.RawMessage{"z": json.RawMessage(`[1]`), "b": json.RawMessage(`"x"`)})
	if err != nil || string(b) != `{"a":1,"b":"x","z":[1]}` {
		t.Errorf("MarshalObject = %s, %v", b, err)
	}
	if _, err := MarshalObject(decl{1}, map[string]int{"a": 2}); err == nil {
		t.Error("a duplicate property was accepted")
	}
	b, err = MarshalObject(struct{}{}, map[string]int{"x": 1})
	if err != nil || string(b) != `{"x":1}` {
		t.Errorf("MarshalObject on an empty object = %s, %v", b, err)
	}
	if _, err := MarshalObject(3, map[string]int{"x": 1}); err == nil {
		t.Error("a non-object was accepted")
	}
}

func TestCanonicalJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": 1.0, "a": [1e2, -0, 0.5, "x"]}`: `{"a":[100,0,0.5,"x"],"b":1}`,
		`9007199254740993`:                     `9007199254740993`,
		`null`:                                 `null`,
	} {
		got, err := CanonicalJSON([]byte(in))
		if err != nil || got != want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestCredentialsSupplier(t *testing.T) {
	raw := `{ "type": "NamedPasswordCredential", "username": "bob",   "password": "` + secret + `" }`
	var c CredentialsSupplier
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	if string(c.RawJSON()) != raw {
		t.Errorf("RawJSON is not byte for byte: %s", c.RawJSON())
	}
	if b, _ := json.Marshal(struct{ C CredentialsSupplier }{c}); !strings.Contains(string(b), secret) {
		t.Errorf("Marshal lost data: %s", b)
	}
	if c.Type() != NamedPasswordCredentialType {
		t.Errorf("Type = %q", c.Type())
	}
	np, ok := c.NamedPassword()
	if !ok || np.Username != "bob" || np.Password.Reveal() != secret {
		t.Errorf("NamedPassword = %+v, %v", np, ok)
	}
	if _, ok := c.NamedKeyPair(); ok {
		t.Error("NamedKeyPair on a password credential")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "c", c, "np", np)
	for _, o := range []string{fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c), fmt.Sprintf("%+v", np), buf.String()} {
		if strings.Contains(o, secret) {
			t.Errorf("leak: %s", o)
		}
	}
	if got := c.String(); got != "CredentialsSupplier{type: NamedPasswordCredential, [REDACTED]}" {
		t.Errorf("String = %s", got)
	}

	// the RetrieveCredentials interface
	var _ interface{ RawJSON() json.RawMessage } = c
	var _ interface{ RawJSON() json.RawMessage } = KeyCredentialsSupplier{}
	var _ interface{ RawJSON() json.RawMessage } = PasswordCredentialsSupplier{}

	k, err := NewKeyCredentialsSupplier(NamedKeyPairCredential{Type: NamedKeyPairCredentialType, PrivateKey: "k"})
	if err != nil || k.Type() != NamedKeyPairCredentialType {
		t.Errorf("NewKeyCredentialsSupplier = %v, %v", k, err)
	}
	if _, err := NewKeyCredentialsSupplier(json.RawMessage(raw)); err == nil {
		t.Error("a password credential was accepted as a key supplier")
	}
	p, err := NewPasswordCredentialsSupplier([]byte(`{"type":"HashiCorpVaultCredential","vault":"V","engine":"e","path":"p","usernameKey":"u","secretKey":"s"}`))
	if err == nil || !strings.Contains(err.Error(), "/expectedSecretType: required property is missing") {
		t.Errorf("NewPasswordCredentialsSupplier = %v, %v", p, err)
	}
	if _, err := NewCredentialsSupplier(json.RawMessage(`{"type":"SomethingNew"}`)); err != nil {
		t.Errorf("an undocumented variant was rejected: %v", err)
	}
	if _, err := NewCredentialsSupplier(json.RawMessage(`[1]`)); err == nil {
		t.Error("an array was accepted")
	}
	var zero CredentialsSupplier
	if !zero.IsZero() || zero.Validate() == nil {
		t.Error("the zero supplier")
	}
	if b, _ := json.Marshal(zero); string(b) != "null" {
		t.Errorf("zero marshals as %s", b)
	}
}
