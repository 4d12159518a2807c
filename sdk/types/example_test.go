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
