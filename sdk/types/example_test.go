package types_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dvpkit/dvp/sdk/types"
)

// An optional property is a pointer in generated code: Ptr makes one from
// a value.
func ExamplePtr() {
	type repositoryDefinition struct { // as generated for an optional "port"
		Name string `json:"name"`
		Port *int64 `json:"port,omitzero"`
	}
	withPort := repositoryDefinition{Name: "pg", Port: types.Ptr[int64](5432)}
	without := repositoryDefinition{Name: "pg"}
	a, _ := json.Marshal(withPort)
	b, _ := json.Marshal(without)
	fmt.Println(string(a))
	fmt.Println(string(b))
	// Output:
	// {"name":"pg","port":5432}
	// {"name":"pg"}
}

// A Password prints and logs as a mask whatever the verb; the engine gets
// its value in JSON, and Reveal gives it to the code that needs it.
func ExamplePassword() {
	p := types.Password("s3cret")
	fmt.Println(p)
	fmt.Printf("%v %q %#v\n", p, p, p)
	b, _ := json.Marshal(p)
	fmt.Println(string(b), p.Reveal())
	// Output:
	// [REDACTED]
	// [REDACTED] "[REDACTED]" types.Password("[REDACTED]")
	// "s3cret" s3cret
}

// Generated UnmarshalJSON and Validate methods report every problem with
// its JSON pointer; a plugin reads them with errors.As.
func ExampleValidationErrors() {
	var err error = types.ValidationErrors{
		{Path: types.Pointer("mountLocation"), Message: "a required property is missing"},
		{Path: types.Pointer("ports", 2), Message: "must be <= 65535 (got 70000)"},
	}
	var problems types.ValidationErrors
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Printf("%s: %s\n", p.Path, p.Message)
		}
	}
	// Output:
	// /mountLocation: a required property is missing
	// /ports/2: must be <= 65535 (got 70000)
}

// Unmarshal decodes a plugin's own struct as generated types decode: names
// match exactly, an unknown member is refused, and every problem is named
// by its JSON pointer, where encoding/json would have filled MountLocation
// and dropped colour without a word.
func ExampleUnmarshal() {
	type sourceParams struct { // a plugin's own struct, not generated
		MountLocation string `json:"mountLocation"`
		Port          *int   `json:"port,omitempty"`
	}
	var p sourceParams
	err := types.Unmarshal([]byte(`{"MountLocation": "/mnt/stage", "colour": "red"}`), &p)
	var problems types.ValidationErrors
	if errors.As(err, &problems) {
		for _, problem := range problems {
			fmt.Println(problem.Path, problem.Message)
		}
	}
	// Output:
	// /MountLocation property is not allowed: did you mean "mountLocation"? (types_test.sourceParams has the field MountLocation for "mountLocation": names match exactly, case included)
	// /colour property is not allowed: types_test.sourceParams has no field for it (give a field the json tag "colour" to take it)
}
