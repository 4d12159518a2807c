// The Delphix string formats the engine can check beyond the schema
// (docs/workflows.md, "Parameters are checked first"): a unixpath is an
// absolute path, a reference names an object of this engine (of the
// schema's referenceType when it gives one).

package core

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/jsonpointer"
)

// maxFormatDepth bounds the walk of a schema and a value (both come from
// outside).
const maxFormatDepth = 64

// formatNode is the part of a JSON schema the format walk reads.
type formatNode struct {
	Type                 any                    `json:"type"`
	Format               string                 `json:"format"`
	ReferenceType        string                 `json:"referenceType"`
	Properties           map[string]*formatNode `json:"properties"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                json.RawMessage        `json:"items"`
	AllOf                []*formatNode          `json:"allOf"`
	AnyOf                []*formatNode          `json:"anyOf"`
	OneOf                []*formatNode          `json:"oneOf"`
}

var referencePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Z][A-Z0-9_]*)-([1-9][0-9]*)$`) })

// formatProblems checks the unixpath and reference strings of a value
// (decoded with UseNumber) against the definition's schema, each problem
// with its JSON pointer.
func (e *Engine) formatProblems(ctx context.Context, schemaDoc json.RawMessage, value any) diag.List {
	var root formatNode
	if len(schemaDoc) == 0 || json.Unmarshal(schemaDoc, &root) != nil {
		return nil
	}
	var out diag.List
	e.walkFormats(ctx, &root, value, nil, 0, &out)
	return out
}

func (e *Engine) walkFormats(ctx context.Context, n *formatNode, v any, path []string, depth int, out *diag.List) {
	if n == nil || depth > maxFormatDepth {
		return
	}
	for _, sub := range [][]*formatNode{n.AllOf, n.AnyOf, n.OneOf} {
		for _, s := range sub {
			e.walkFormats(ctx, s, v, path, depth+1, out)
		}
	}
	switch x := v.(type) {
	case string:
		if msg := e.checkFormat(ctx, n, x); msg != "" {
			*out = append(*out, diag.Problem{Pointer: jsonpointer.Join(path...), Severity: diag.Error, Message: msg})
		}
	case map[string]any:
		var extra *formatNode
		if len(n.AdditionalProperties) > 0 && n.AdditionalProperties[0] == '{' {
			extra = &formatNode{}
			if json.Unmarshal(n.AdditionalProperties, extra) != nil {
				extra = nil
			}
		}
		for k, child := range x {
			s, ok := n.Properties[k]
			if !ok {
				s = extra
			}
			e.walkFormats(ctx, s, child, append(path[:len(path):len(path)], k), depth+1, out)
		}
	case []any:
		var items *formatNode
		if len(n.Items) > 0 && n.Items[0] == '{' {
			items = &formatNode{}
			if json.Unmarshal(n.Items, items) != nil {
				items = nil
			}
		}
		for i, child := range x {
			e.walkFormats(ctx, items, child, append(path[:len(path):len(path)], strconv.Itoa(i)), depth+1, out)
		}
	}
}

// checkFormat is why s does not match n's format ("" when it does, or
// when the engine cannot tell).
func (e *Engine) checkFormat(ctx context.Context, n *formatNode, s string) string {
	switch n.Format {
	case "unixpath":
		if !strings.HasPrefix(s, "/") {
			return fmt.Sprintf("%q is not an absolute Unix path (format unixpath): give a path that starts with /", s)
		}
	case "reference":
		m := referencePattern().FindStringSubmatch(s)
		if m == nil {
			return fmt.Sprintf("%q is not a reference (format reference): give the reference of an object of this engine, such as UNIX_HOST_ENVIRONMENT-1", s)
		}
		if want := n.ReferenceType; want != "" && refTypeKey(want) != refTypeKey(m[1]) {
			return fmt.Sprintf("%q is not a reference of type %s (referenceType)", s, want)
		}
		if what, exists := e.referenceExists(ctx, m[1], s); !exists {
			return fmt.Sprintf("the %s %s does not exist on this engine", what, s)
		}
	}
	return ""
}

// refTypeKey compares a referenceType (UnixHostEnvironment or
// UNIX_HOST_ENVIRONMENT) with a reference's prefix.
func refTypeKey(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", "")) }

// referenceExists looks a reference up by its prefix: the objects of this
// engine and the host and user of its environments (their connections'
// references). A prefix the engine does not know cannot be checked.
func (e *Engine) referenceExists(ctx context.Context, prefix, ref string) (string, bool) {
	kind := ""
	for k, p := range engineapi.RefPrefixes {
		if p == prefix {
			kind = k
		}
	}
	switch prefix {
	case "UNIX_HOST", "HOST_USER":
		kind, ref = engineapi.KindEnvironment, engineapi.RefPrefixes[engineapi.KindEnvironment]+ref[len(prefix):]
	}
	if kind == "" {
		return "", true
	}
	var doc json.RawMessage
	ok, err := e.store.GetObject(ctx, kind, ref, &doc)
	if err != nil {
		return objectNames[kind], true // the store's failure is not the user's
	}
	return objectNames[kind], ok
}
