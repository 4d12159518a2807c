package types

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Unmarshal decodes the JSON value data into v, a non-nil pointer, the way
// generated types decode themselves. It is the one decoding path of the SDK:
// the runtime decodes every operation's input with it (so a plugin's own
// structs, sdk.StagedSource[MyParams] for example, follow the same rules as
// the generated types), plugintest decodes results with it, and a plugin
// may call it for JSON of its own. Unlike encoding/json's Unmarshal:
//
//   - a member of a JSON object fills the struct field whose JSON name (its
//     json tag, else its Go name) is exactly the member's name, case
//     included: "GUID" does not fill a field tagged `json:"guid"`;
//   - a member that no field takes is refused (decode into a map, an any or
//     a json.RawMessage to take whatever comes);
//   - null is allowed only where Go has nil (pointers, slices, maps,
//     interfaces), and sets nil; for every other Go type it is refused, as
//     are a value of the wrong JSON type, an integer out of its field's
//     range and an array longer or shorter than a Go array;
//   - an integer field takes any JSON number without a fractional part (1,
//     1.0, 1e3), as JSON Schema and the generated types have it, where
//     encoding/json refuses 1.0.
//
// As with encoding/json, a field whose member is absent keeps its zero
// value (a struct's fields are zeroed first): to tell "absent" from
// "empty", use a pointer.
//
// Types that implement json.Unmarshaler (every generated type,
// json.RawMessage, time.Time) decode their own values, and
// encoding.TextUnmarshaler types their strings; encoding/json's
// `json:",string"` option and base64 for []byte work as with
// encoding/json. Members with the same name: the last one counts.
//
// Every problem is reported, not only the first: the error is a
// ValidationErrors whose Paths are JSON pointers into data, and whose
// messages never hold a string's value (which could be a secret). v is
// partly filled when there are problems. A v that is not a non-nil pointer
// is a programming error, reported as a plain error.
func Unmarshal(data []byte, v any) error {
	return unmarshal(data, v, false)
}

// unmarshalKnown is Unmarshal for a JSON object whose schema allows
// properties the struct v does not declare (the platform's credential
// variants): the members of the top-level object that no field takes are
// skipped; everything else follows Unmarshal's rules.
func unmarshalKnown(data []byte, v any) error {
	return unmarshal(data, v, true)
}

// unmarshal is Unmarshal, skipping the top-level object's members no field
// takes when skipUnknown is set (unmarshalKnown).
func unmarshal(data []byte, v any, skipUnknown bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("types.Unmarshal needs a non-nil pointer to decode into, not %T", v)
	}
	if err := CheckSyntax(data); err != nil {
		return err
	}
	u := unmarshaler{skipUnknown: skipUnknown}
	u.value(bytes.TrimSpace(data), rv.Elem(), nil, false)
	return u.Err()
}

// unmarshaler is a Decoder that fills Go values by reflection.
type unmarshaler struct {
	Decoder
	skipUnknown bool // of the top-level object
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// at returns path with seg appended, never sharing path's array.
func at(path []any, seg any) []any {
	return append(path[:len(path):len(path)], seg)
}

// value decodes data (valid JSON, trimmed) into v, which is settable.
// quoted is encoding/json's ",string" option of the field v is.
func (u *unmarshaler) value(data []byte, v reflect.Value, path []any, quoted bool) {
	null := typeOf(data) == JSONNull
	if v.Kind() == reflect.Pointer {
		if null {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		u.value(data, v.Elem(), path, quoted)
		return
	}
	t := v.Type()
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		u.Nest(v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(data), path...)
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) && !(t.Kind() == reflect.Slice && null) {
		before := len(u.errs)
		s := u.String(data, path...)
		if len(u.errs) == before {
			u.Nest(v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)), path...)
		}
		return
	}
	if quoted {
		u.quoted(data, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() > 0 {
			u.add(fmt.Sprintf("cannot decode into the interface type %s: use a concrete type, any or json.RawMessage", t), path)
			return
		}
		var x any
		_ = json.Unmarshal(data, &x) // data is valid JSON
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Struct:
		u.object(data, v, path)
	case reflect.Map:
		u.mapValue(data, v, path)
	case reflect.Slice:
		switch {
		case null:
			v.SetZero()
		case t.Elem().Kind() == reflect.Uint8 && typeOf(data) == JSONString:
			// []byte is base64 text, as encoding/json has it.
			if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
				u.add("expected base64 text (a []byte)", path)
			}
		default:
			s := reflect.MakeSlice(t, 0, 0)
			for i, raw := range u.Array(data, path...) {
				s = reflect.Append(s, reflect.Zero(t.Elem()))
				u.value(raw, s.Index(i), at(path, i), false)
			}
			if typeOf(data) == JSONArray {
				v.Set(s)
			}
		}
	case reflect.Array:
		n := 0
		for i, raw := range u.Array(data, path...) {
			if i < v.Len() {
				u.value(raw, v.Index(i), at(path, i), false)
			}
			n++
		}
		if typeOf(data) == JSONArray && n != v.Len() {
			u.add(fmt.Sprintf("expected an array of %d items (Go type %s), got %d", v.Len(), t, n), path)
		}
	case reflect.String:
		v.SetString(u.String(data, path...))
	case reflect.Bool:
		v.SetBool(u.Bool(data, path...))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		before := len(u.errs)
		n := u.Int(data, path...)
		if len(u.errs) == before && v.OverflowInt(n) {
			u.add(fmt.Sprintf("integer is out of the range of %s", t), path)
			return
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(string(data), 10, 64); err == nil {
			if v.OverflowUint(n) {
				u.add(fmt.Sprintf("integer is out of the range of %s", t), path)
				return
			}
			v.SetUint(n)
			return
		}
		before := len(u.errs)
		n := u.Int(data, path...)
		switch {
		case len(u.errs) > before:
		case n < 0 || v.OverflowUint(uint64(n)):
			u.add(fmt.Sprintf("integer is out of the range of %s", t), path)
		default:
			v.SetUint(uint64(n))
		}
	case reflect.Float32, reflect.Float64:
		before := len(u.errs)
		f := u.Number(data, path...)
		if len(u.errs) == before && v.OverflowFloat(f) {
			u.add(fmt.Sprintf("number is out of the range of %s", t), path)
			return
		}
		v.SetFloat(f)
	default:
		u.add(fmt.Sprintf("cannot decode JSON into the Go type %s", t), path)
	}
}

// quoted decodes a field tagged ",string": a JSON string holding the JSON
// text of a boolean, a number or a string.
func (u *unmarshaler) quoted(data []byte, v reflect.Value, path []any) {
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
	default:
		u.value(data, v, path, false) // encoding/json ignores the option here
		return
	}
	before := len(u.errs)
	s := u.String(data, path...)
	if len(u.errs) > before {
		return
	}
	inner := []byte(strings.TrimSpace(s))
	if !json.Valid(inner) || typeOf(inner) == JSONObject || typeOf(inner) == JSONArray || typeOf(inner) == JSONNull {
		u.add(fmt.Sprintf("expected a string holding a JSON %s (the field's tag has ,string)", jsonTypeOf(v.Type())), path)
		return
	}
	u.value(inner, v, path, false)
}

// jsonTypeOf names the JSON type a Go kind decodes from.
func jsonTypeOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	}
	return "number"
}

// object decodes a JSON object into the struct v.
func (u *unmarshaler) object(data []byte, v reflect.Value, path []any) {
	fields := structFields(v.Type())
	v.SetZero()
	for key, raw := range u.Object(data, path...) {
		i, ok := fields.byName[key]
		if !ok {
			if !u.skipUnknown || len(path) > 0 {
				u.unknown(fields, v.Type(), key, at(path, key))
			}
			continue
		}
		f := fields.list[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			u.add(fmt.Sprintf("cannot set the field %s of %s (it is inside a nil pointer to an unexported struct)", f.goName, structName(v.Type())), at(path, key))
			continue
		}
		u.value(raw, fv, at(path, key), f.quoted)
	}
}

// unknown records a member that no field of t takes, saying how to fix it.
func (u *unmarshaler) unknown(fields *structInfo, t reflect.Type, key string, path []any) {
	for _, f := range fields.list {
		if strings.EqualFold(f.name, key) {
			u.add(fmt.Sprintf("property is not allowed: did you mean %q? (%s has the field %s for %q: names match exactly, case included)", f.name, structName(t), f.goName, f.name), path)
			return
		}
	}
	u.add(fmt.Sprintf("property is not allowed: %s has no field for it (give a field the json tag %q to take it)", structName(t), key), path)
}

// structName names a struct type in messages as Go code names it:
// sdk.StagedSource[main.LinkedSource], not with the import paths and the
// numbers of local types that reflect gives the type arguments.
func structName(t reflect.Type) string {
	if t.Name() == "" {
		return "the struct"
	}
	return typeArgPath().ReplaceAllString(t.String(), "")
}

var typeArgPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[\w.\-~]+/|·\d+`) })

// mapValue decodes a JSON object into the map v.
func (u *unmarshaler) mapValue(data []byte, v reflect.Value, path []any) {
	t := v.Type()
	if typeOf(data) == JSONNull {
		v.SetZero()
		return
	}
	kt := t.Key()
	textKey := reflect.PointerTo(kt).Implements(textUnmarshalerType)
	switch {
	case kt.Kind() == reflect.String, textKey:
	case kt.Kind() >= reflect.Int && kt.Kind() <= reflect.Uintptr:
	default:
		u.add(fmt.Sprintf("cannot decode a JSON object into the Go type %s (its keys are not strings or integers)", t), path)
		return
	}
	m := reflect.MakeMap(t)
	for key, raw := range u.Object(data, path...) {
		k := reflect.New(kt).Elem()
		switch {
		case textKey:
			if err := k.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(key)); err != nil {
				u.add("the property name is not a valid "+kt.String()+": "+err.Error(), at(path, key))
				continue
			}
		case kt.Kind() == reflect.String:
			k.SetString(key)
		default:
			before := len(u.errs)
			u.value([]byte(key), k, at(path, key), false)
			if len(u.errs) > before {
				u.errs[len(u.errs)-1].Message = "the property name is not a " + kt.String() + ": " + u.errs[len(u.errs)-1].Message
				continue
			}
		}
		e := reflect.New(t.Elem()).Elem()
		u.value(raw, e, at(path, key), false)
		m.SetMapIndex(k, e)
	}
	if typeOf(data) == JSONObject {
		v.Set(m)
	}
}

// fieldByIndex returns the field of v at index, allocating the embedded
// pointers on the way; ok is false when one cannot be allocated.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, v.CanSet()
}

// structField is a JSON member name of a struct and the field it fills.
type structField struct {
	name   string // the JSON name
	goName string // the Go name, for messages
	index  []int
	tagged bool
	quoted bool // ,string
}

// structInfo is the fields of a struct type as encoding/json sees them.
type structInfo struct {
	list   []structField
	byName map[string]int
}

var structCache sync.Map // reflect.Type -> *structInfo

// structFields returns the JSON fields of the struct type t with
// encoding/json's rules: json:"-" fields and unexported ones are left out;
// the fields of an embedded struct without a name in its tag are promoted;
// of several fields with one name, the least nested one wins, then the one
// with a tag, and when that leaves several, none.
func structFields(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	type level struct {
		t     reflect.Type
		index []int
	}
	var all [][]structField // by depth
	visited := map[reflect.Type]bool{}
	for next := []level{{t: t}}; len(next) > 0; {
		current := next
		next = nil
		var found []structField
		for _, l := range current {
			if visited[l.t] {
				continue
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(l.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{t: ft, index: index})
					continue
				}
				f := structField{name: name, goName: sf.Name, index: index, tagged: name != ""}
				if name == "" {
					f.name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					f.quoted = f.quoted || o == "string"
				}
				found = append(found, f)
			}
		}
		all = append(all, found)
	}
	si := &structInfo{byName: map[string]int{}}
	taken := map[string]bool{}
	for _, found := range all {
		byName := map[string][]structField{}
		var order []string
		for _, f := range found {
			if taken[f.name] {
				continue // hidden by a less nested field
			}
			if byName[f.name] == nil {
				order = append(order, f.name)
			}
			byName[f.name] = append(byName[f.name], f)
		}
		for _, name := range order {
			taken[name] = true
			fs := byName[name]
			if len(fs) > 1 {
				var tagged []structField
				for _, f := range fs {
					if f.tagged {
						tagged = append(tagged, f)
					}
				}
				fs = tagged
			}
			if len(fs) == 1 {
				si.byName[name] = len(si.list)
				si.list = append(si.list, fs[0])
			}
		}
	}
	actual, _ := structCache.LoadOrStore(t, si)
	return actual.(*structInfo)
}
