package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/dvpkit/dvp/sdk/types"
)

// InputError reports an operation input that cannot be decoded; the engine
// sees it as a bad_input error.
type InputError struct {
	Message string
}

// Error returns the message.
func (e *InputError) Error() string { return e.Message }

// DecodeInput decodes an operation's input object into v, a pointer to a
// struct whose json-tagged fields are the input's fields, for example
//
//	var in struct {
//		StagedSource       sdk.StagedSource[LinkedSourceDefinition] `json:"staged_source"`
//		Repository         RepositoryDefinition                     `json:"repository"`
//		SourceConfig       SourceConfigDefinition                   `json:"source_config"`
//		SnapshotParameters *SnapshotParametersDefinition            `json:"snapshot_parameters"`
//	}
//
// Every field must be present in the input (a field tagged omitempty may be
// absent); a JSON null leaves a pointer nil. The struct lists the input
// fields the operation uses: the input's other fields (the protocol defines
// them all) are not decoded. The fields' values are decoded with
// types.Unmarshal: member names match the json tags exactly, case included,
// a member that no field takes is refused, and every problem is reported
// with its JSON pointer. That holds for the generated types, for the SDK's
// (sdk.StagedSource, sdk.RemoteConnection, ...) and for a plugin's own
// structs alike. Failures are *InputError.
func DecodeInput(input json.RawMessage, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return &InputError{Message: fmt.Sprintf("the runtime was given %T to decode into; it needs a pointer to a struct", v)}
	}
	if kind := jsonKind(input); kind != "an object" {
		return &InputError{Message: "the input is " + kind + " but should be a JSON object"}
	}
	if err := types.CheckSyntax(input); err != nil {
		return &InputError{Message: err.Error()}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil {
		return &InputError{Message: err.Error()}
	}
	t := rv.Elem().Type()
	used := map[string]bool{}
	inputNames(t, used)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" || f.Anonymous && tag == "" {
			continue // embedded structs' fields are promoted; not checked
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if _, ok := fields[name]; !ok && !strings.Contains(","+opts+",", ",omitempty,") {
			for _, k := range sortedKeys(fields) {
				if strings.EqualFold(k, name) {
					return &InputError{Message: fmt.Sprintf("the input has no '%s' field (it has '%s': names match exactly, case included)", name, k)}
				}
			}
			return &InputError{Message: fmt.Sprintf("the input has no '%s' field", name)}
		}
	}
	if err := types.Unmarshal(usedFields(input, used), v); err != nil {
		return &InputError{Message: err.Error()}
	}
	return nil
}

// inputNames adds the JSON names of the fields of the struct type t to
// names, those of embedded structs without a tag name included.
func inputNames(t reflect.Type, names map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case name == "-" && f.Tag.Get("json") == "-":
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			inputNames(ft, names)
		case !f.IsExported():
		case name == "":
			names[f.Name] = true
		default:
			names[name] = true
		}
	}
}

// usedFields returns the JSON object input with only the members whose
// names are in used, in their order.
func usedFields(input json.RawMessage, used map[string]bool) []byte {
	var d types.Decoder
	var b bytes.Buffer
	b.WriteByte('{')
	for name, raw := range d.Object(input) {
		if !used[name] {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Adapt turns a function over a decoded input struct into a Handler: the
// input is decoded with DecodeInput, then f is called. Generated code
// registers operations with it:
//
//	ops["linked.mount_specification"] = runtime.Adapt(func(ctx context.Context, in struct {
//		StagedSource sdk.StagedSource[LinkedSourceDefinition] `json:"staged_source"`
//		Repository   RepositoryDefinition                     `json:"repository"`
//	}) (sdk.MountSpecification, error) {
//		return p.Linked.MountSpecification(ctx, in.StagedSource, in.Repository)
//	})
func Adapt[In, Out any](f func(ctx context.Context, in In) (Out, error)) Handler {
	return func(ctx context.Context, input json.RawMessage) (any, error) {
		var in In
		if err := DecodeInput(input, &in); err != nil {
			return nil, err
		}
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// MigrationFunc adapts a typed migration over decoded JSON values
// (map[string]any, or a struct) to Migration.Func. The object is decoded
// with types.Unmarshal: a struct Old must declare every property a stored
// object may have (a property it does not declare fails the migration,
// rather than being dropped from the upgraded object).
func MigrationFunc[Old, New any](f func(ctx context.Context, old Old) (New, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var old Old
		if err := types.Unmarshal(raw, &old); err != nil {
			return nil, &InputError{Message: "the object to migrate cannot be decoded: " + err.Error()}
		}
		nw, err := f(ctx, old)
		if err != nil {
			return nil, err
		}
		return json.Marshal(nw)
	}
}
