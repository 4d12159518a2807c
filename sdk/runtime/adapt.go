package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
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
// absent); a JSON null leaves a pointer nil. Failures are *InputError.
func DecodeInput(input json.RawMessage, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return &InputError{Message: fmt.Sprintf("the runtime was given %T to decode into; it needs a pointer to a struct", v)}
	}
	if kind := jsonKind(input); kind != "an object" {
		return &InputError{Message: "the input is " + kind + " but should be a JSON object"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil {
		return &InputError{Message: err.Error()}
	}
	t := rv.Elem().Type()
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
			return &InputError{Message: fmt.Sprintf("the input has no '%s' field", name)}
		}
	}
	if err := json.Unmarshal(input, v); err != nil {
		return &InputError{Message: err.Error()}
	}
	return nil
}

// Adapt turns a function over a decoded input struct into a Handler: the
// input is decoded with DecodeInput, then f is called. Generated code
// registers operations with it:
//
//	ops["linked.mount_specification"] = runtime.Adapt(func(ctx context.Context, in struct {
//		StagedSource sdk.StagedSource[LinkedSourceDefinition] `json:"staged_source"`
//		Repository   RepositoryDefinition                     `json:"repository"`
//	}) (*sdk.MountSpecification, error) {
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
// (map[string]any, or a struct) to Migration.Func.
func MigrationFunc[Old, New any](f func(ctx context.Context, old Old) (New, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var old Old
		if err := json.Unmarshal(raw, &old); err != nil {
			return nil, &InputError{Message: "the object to migrate cannot be decoded: " + err.Error()}
		}
		nw, err := f(ctx, old)
		if err != nil {
			return nil, err
		}
		return json.Marshal(nw)
	}
}
