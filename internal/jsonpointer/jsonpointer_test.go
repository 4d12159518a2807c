package jsonpointer

import (
	"slices"
	"testing"
)

func TestJoinSplit(t *testing.T) {
	for _, c := range []struct {
		tokens []string
		ptr    string
	}{
		{nil, ""},
		{[]string{"a"}, "/a"},
		{[]string{"a/b", "~c", ""}, "/a~1b/~0c/"},
		{[]string{"0", "~1"}, "/0/~01"},
	} {
		if got := Join(c.tokens...); got != c.ptr {
			t.Errorf("Join(%q) = %q, want %q", c.tokens, got, c.ptr)
		}
		if got := Split(c.ptr); !slices.Equal(got, c.tokens) {
			t.Errorf("Split(%q) = %q, want %q", c.ptr, got, c.tokens)
		}
	}
	if got := Split("#/definitions/x"); !slices.Equal(got, []string{"definitions", "x"}) {
		t.Errorf("Split of a fragment = %q", got)
	}
}
