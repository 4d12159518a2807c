package types_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/sdk/types"
)

type host struct {
	Name string `json:"name"`
	Port *int   `json:"port,omitempty"`
}

type base struct {
	GUID string `json:"guid"`
}

type params struct {
	base
	MountLocation string            `json:"mountLocation"`
	Hosts         []host            `json:"hosts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Extra         json.RawMessage   `json:"extra,omitempty"`
	Any           any               `json:"any,omitempty"`
	Count         uint8             `json:"count,omitempty"`
	Ratio         float32           `json:"ratio,omitempty"`
	Pair          [2]int            `json:"pair,omitzero"`
	Blob          []byte            `json:"blob,omitempty"`
	Quoted        int64             `json:"quoted,string,omitempty"`
	When          *time.Time        `json:"when,omitempty"`
	Addr          *netip.Addr       `json:"addr,omitempty"`
	Skipped       string            `json:"-"`
	Untagged      bool              `json:",omitempty"`
	secret        string            // unexported: never decoded
}

// problems returns the "path: message" lines of a ValidationErrors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ves types.ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("error %v (%T) is not a ValidationErrors", err, err)
	}
	var out []string
	for _, e := range ves {
		out = append(out, e.Error())
	}
	return out
}

// Member names match exactly: encoding/json's case-insensitive match and
// its silence about unknown members are what Unmarshal refuses, each
// problem named by its JSON pointer and said how to fix.
func TestUnmarshalMatchesNamesExactly(t *testing.T) {
	in := `{"guid":"g","MountLocation":"/mnt","hosts":[{"name":"a","Port":1},{"name":"b","colour":"red"}],"mountlocation":"/x"}`

	var loose params
	if err := json.Unmarshal([]byte(in), &loose); err != nil || loose.MountLocation != "/x" || *loose.Hosts[0].Port != 1 {
		t.Fatalf("encoding/json no longer matches names case-insensitively (%v, %+v): this test shows the difference", err, loose)
	}

	var p params
	got := problems(t, types.Unmarshal([]byte(in), &p))
	want := []string{
		`/MountLocation: property is not allowed: did you mean "mountLocation"? (types_test.params has the field MountLocation for "mountLocation": names match exactly, case included)`,
		`/hosts/0/Port: property is not allowed: did you mean "port"? (types_test.host has the field Port for "port": names match exactly, case included)`,
		`/hosts/1/colour: property is not allowed: types_test.host has no field for it (give a field the json tag "colour" to take it)`,
		`/mountlocation: property is not allowed: did you mean "mountLocation"? (types_test.params has the field MountLocation for "mountLocation": names match exactly, case included)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A value Unmarshal accepts decodes as encoding/json decodes it.
func TestUnmarshalDecodesAsEncodingJSON(t *testing.T) {
	in := `{
		"guid": "g", "mountLocation": "/mnt",
		"hosts": [{"name": "a", "port": 22}, {"name": "b", "port": null}],
		"labels": {"k": "v"}, "extra": {"x": [1, 2]}, "any": {"n": 1.5, "l": [true, null]},
		"count": 255, "ratio": 0.5, "pair": [1, 2], "blob": "aGk=", "quoted": "42",
		"when": "2026-12-07T10:00:00Z", "addr": "127.0.0.1", "Skipped": "no", "Untagged": true
	}`
	var strict, loose params
	if err := types.Unmarshal([]byte(in), &strict); err == nil {
		t.Fatal(`Unmarshal accepted "Skipped", the name of a json:"-" field`)
	}
	in = strings.Replace(in, `"Skipped": "no", `, "", 1)
	strict = params{}
	if err := types.Unmarshal([]byte(in), &strict); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(in), &loose); err != nil {
		t.Fatal(err)
	}
	if strict.secret != "" || strict.Extra == nil || strict.When == nil || strict.Addr == nil || strict.Hosts[1].Port != nil || !strict.Untagged || strict.Quoted != 42 {
		t.Errorf("decoded %+v", strict)
	}
	// RawMessage keeps its bytes as encoding/json does (white space included).
	if !reflect.DeepEqual(strict, loose) {
		t.Errorf("Unmarshal decoded\n%+v\nencoding/json\n%+v", strict, loose)
	}
	// And back: what Marshal writes, Unmarshal reads.
	out, err := json.Marshal(strict)
	if err != nil {
		t.Fatal(err)
	}
	var again, looseAgain params
	if err := types.Unmarshal(out, &again); err != nil {
		t.Fatalf("Unmarshal refuses what json.Marshal wrote (%s): %v", out, err)
	}
	if err := json.Unmarshal(out, &looseAgain); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, looseAgain) {
		t.Errorf("round trip:\n%+v\nencoding/json\n%+v", again, looseAgain)
	}
}

// Wrong JSON types, null where Go has no nil, and numbers out of range are
// all reported at once, never quoting a string's value.
func TestUnmarshalReportsEveryProblem(t *testing.T) {
	in := `{"guid": null, "mountLocation": 7, "hosts": {"name": "x"}, "labels": {"k": 1},
		"count": 256, "ratio": 1e300, "pair": [1, 2, 3], "quoted": "s3cret", "blob": "not base64!",
		"when": "s3cret", "Untagged": "s3cret"}`
	var p params
	got := problems(t, types.Unmarshal([]byte(in), &p))
	want := []string{
		"/guid: expected string, got null",
		"/mountLocation: expected string, got number",
		"/hosts: expected array, got object",
		"/labels/k: expected string, got number",
		"/count: integer is out of the range of uint8",
		"/ratio: number is out of the range of float32",
		"/pair: expected an array of 2 items (Go type [2]int), got 3",
		"/quoted: expected a string holding a JSON number (the field's tag has ,string)",
		"/blob: expected base64 text (a []byte)",
		"/Untagged: expected boolean, got string",
	}
	var gotNoTime []string
	for _, g := range got {
		if strings.Contains(g, "s3cret") && !strings.HasPrefix(g, "/when:") {
			t.Errorf("a message holds a string's value: %s", g)
		}
		if !strings.HasPrefix(g, "/when:") {
			gotNoTime = append(gotNoTime, g)
		}
	}
	if !reflect.DeepEqual(gotNoTime, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != len(want)+1 {
		t.Errorf("time.Time's own UnmarshalJSON error is not reported at /when: %q", got)
	}
}

// decodesItself reports problems as generated types do.
type decodesItself struct{ N int }

func (d *decodesItself) UnmarshalJSON(b []byte) error {
	if string(b) != "{}" {
		return types.ValidationErrors{{Path: "/inner", Message: "required property is missing"}}
	}
	d.N = 1
	return nil
}

// A type that decodes itself (every generated type) is given its JSON, and
// its problems are nested under its pointer.
func TestUnmarshalNestsUnmarshalers(t *testing.T) {
	var v struct {
		Params decodesItself    `json:"parameters"`
		More   []*decodesItself `json:"more"`
	}
	got := problems(t, types.Unmarshal([]byte(`{"parameters": {"x": 1}, "more": [{}, null, {"y": 2}]}`), &v))
	want := []string{"/parameters/inner: required property is missing", "/more/2/inner: required property is missing"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if err := types.Unmarshal([]byte(`{"parameters": {}, "more": [{}, null]}`), &v); err != nil || v.Params.N != 1 || v.More[0].N != 1 || v.More[1] != nil {
		t.Errorf("%v %+v", err, v)
	}
}

// Of two fields named alike, the less nested one wins, then the tagged one,
// as in encoding/json; an embedded pointer is allocated when a member fills it.
func TestUnmarshalEmbedded(t *testing.T) {
	type Inner struct {
		Name string `json:"name,omitempty"`
		Deep string `json:"deep,omitempty"`
	}
	type outer struct {
		*Inner
		Name string `json:"name"`
	}
	var o outer
	if err := types.Unmarshal([]byte(`{"name": "top", "deep": "d", "Inner": {}}`), &o); err == nil {
		t.Error("Unmarshal filled the embedded struct by its type's name")
	}
	o = outer{}
	if err := types.Unmarshal([]byte(`{"name": "top", "deep": "d"}`), &o); err != nil {
		t.Fatal(err)
	}
	if o.Name != "top" || o.Inner == nil || o.Deep != "d" || o.Inner.Name != "" {
		t.Errorf("decoded %+v %+v", o, o.Inner)
	}
}

func TestUnmarshalRefusesWhatIsNotJSON(t *testing.T) {
	var p params
	if err := types.Unmarshal([]byte(`{"guid": "g"`), &p); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("truncated JSON: %v", err)
	}
	if err := types.Unmarshal([]byte(`{}`), p); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("a struct, not a pointer: %v", err)
	}
	var n int64
	if err := types.Unmarshal([]byte(`9223372036854775808`), &n); err == nil {
		t.Error("2^63 decoded into an int64")
	}
	var u uint64
	if err := types.Unmarshal([]byte(`18446744073709551615`), &u); err != nil || u != math.MaxUint64 {
		t.Errorf("max uint64: %v %d", err, u)
	}
	if err := types.Unmarshal([]byte(`-1`), &u); err == nil {
		t.Error("-1 decoded into a uint64")
	}
	var f func()
	if err := types.Unmarshal([]byte(`null`), &f); err == nil || !strings.Contains(err.Error(), "cannot decode JSON into the Go type func()") {
		t.Errorf("null into a func: %v", err)
	}
	var m map[bool]int
	if err := types.Unmarshal([]byte(`{"true": 1}`), &m); err == nil {
		t.Error("a map with bool keys")
	}
	var im map[int]string
	if err := types.Unmarshal([]byte(`{"1": "a", "x": "b"}`), &im); err == nil || im != nil && len(im) != 1 {
		t.Errorf("map[int]string from a non-integer key: %v %v", err, im)
	}
}

// Whatever the bytes, Unmarshal does not panic, and what it accepts
// encoding/json accepts and decodes to the same value, integers written
// 1.0 or 1e3 apart (JSON Schema's integers, which encoding/json refuses
// for Go integers).
func FuzzUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`{"guid":"g","mountLocation":"/m","hosts":[{"name":"a","port":1}],"labels":{"k":"v"},"count":3,"pair":[1,2]}`,
		`{"MountLocation":"x"}`, `{"hosts":null,"any":[1,{"a":null}],"extra":{"x":1}}`, `{"quoted":"12","blob":"aGk="}`,
		`[]`, `null`, `{"count":-1}`, `{"pair":[1]}`, `{"guid":"\u00e9\ud800"}`, `{"pair":[1.0,2e1]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict, loose params
		err := types.Unmarshal(data, &strict)
		if err != nil {
			return
		}
		if err := json.Unmarshal(data, &loose); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && strings.HasPrefix(te.Value, "number ") && strings.ContainsAny(te.Value, ".eE") {
				return
			}
			t.Fatalf("Unmarshal accepted %q, encoding/json refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(strict, loose) {
			t.Fatalf("%q: Unmarshal decoded\n%+v\nencoding/json\n%+v", data, strict, loose)
		}
	})
}

// The platform's schemas of the credential variants allow properties the
// Go types do not declare: the accessors skip them, and match the declared
// ones exactly.
func TestSupplierVariantsSkipUndeclaredProperties(t *testing.T) {
	c, err := types.NewCredentialsSupplier(json.RawMessage(`{"type":"NamedPasswordCredential","username":"u","password":"p","note":"extra","Username":"other"}`))
	if err != nil {
		t.Fatal(err)
	}
	np, ok := c.NamedPassword()
	if !ok || np.Username != "u" || np.Password.Reveal() != "p" {
		t.Fatalf("%v %+v", ok, np)
	}
	c, err = types.NewCredentialsSupplier(json.RawMessage(`{"type":"NamedPasswordCredential","password":{"nested":true}}`))
	if err == nil {
		if _, ok := c.NamedPassword(); ok {
			t.Fatal("a password that is an object was read as a NamedPasswordCredential")
		}
	}
}
