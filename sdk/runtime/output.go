package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/jsonkind"
	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/types"
)

// encodeOutput encodes an operation's result and checks that it is what the
// operation must return, normalizing it (nil list -> [], status by name).
func encodeOutput(op string, spec protocol.OperationSpec, pluginType string, output any) (json.RawMessage, *protocol.ErrorBody) {
	if spec.Output == protocol.OutputNone {
		return json.RawMessage("null"), nil
	}
	raw, err := marshal(output)
	if err != nil {
		return nil, &protocol.ErrorBody{Kind: protocol.KindBadOutput, Message: fmt.Sprintf(
			"The returned object for the %s() operation (Go type %T) cannot be encoded to JSON: %v", op, output, err)}
	}
	if len(raw) > protocol.MaxOperationPayload {
		return nil, tooLargeOutput(op, len(raw))
	}
	wrong := func(got string) *protocol.ErrorBody {
		return &protocol.ErrorBody{Kind: protocol.KindBadOutput, Message: fmt.Sprintf(
			"The returned object for the %s() operation was %s (Go type %T) but should be %s.", op, got, output, spec.OutputType)}
	}
	kind := jsonKind(raw)
	switch spec.Output {
	case protocol.OutputList:
		if kind == "null" {
			return json.RawMessage("[]"), nil
		}
		if kind != "an array" {
			return nil, wrong(kind)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, wrong(kind)
		}
		for i, e := range elems {
			if k := jsonKind(e); k != "an object" {
				return nil, wrong(fmt.Sprintf("a list whose element %d is %s", i, k))
			}
		}
		return raw, nil
	case protocol.OutputObject:
		if kind != "an object" {
			return nil, wrong(kind)
		}
		return raw, nil
	case protocol.OutputStatus:
		var st sdk.Status
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, wrong(kind + " " + abbreviate(raw))
		}
		b, _ := json.Marshal(st)
		return b, nil
	case protocol.OutputSize:
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if kind != "a number" || d.Decode(&n) != nil {
			return nil, wrong(kind)
		}
		i, err := n.Int64()
		if err != nil || i < 0 {
			f, ferr := n.Float64()
			if ferr != nil || f < 0 || f != math.Trunc(f) || f > math.MaxInt64 {
				return nil, wrong("the number " + n.String())
			}
			i = int64(f)
		}
		return json.RawMessage(fmt.Sprint(i)), nil
	case protocol.OutputMountSpecification:
		if kind != "an object" {
			return nil, wrong(kind)
		}
		var ms sdk.MountSpecification
		if err := types.Unmarshal(raw, &ms); err != nil {
			return nil, wrong("an object that is not a mount specification (" + err.Error() + ")")
		}
		if op == "linked.mount_specification" && pluginType == Staged {
			err = ms.ValidateStaged()
		} else {
			err = ms.Validate()
		}
		if err != nil {
			return nil, &protocol.ErrorBody{Kind: protocol.KindBadOutput, Message: err.Error()}
		}
		b, err := json.Marshal(ms)
		if err != nil {
			return nil, wrong(kind)
		}
		return b, nil
	}
	return nil, wrong(kind)
}

// marshal is json.Marshal that turns a panic in a MarshalJSON method into an
// error.
func marshal(v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while encoding: %v", r)
		}
	}()
	return json.Marshal(v)
}

func abbreviate(raw []byte) string {
	s := string(raw)
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

// jsonKind describes the JSON value in raw (without checking it).
func jsonKind(raw []byte) string { return jsonkind.Of(raw) }
