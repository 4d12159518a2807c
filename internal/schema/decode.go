package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonpointer"
	"github.com/dvpkit/dvp/internal/pycompat"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// decoded is the parsed document as Python's json.load builds it, with the
// positions of every value and key.
type decoded struct {
	value  any
	values map[string]int // pointer -> byte offset of the value
	keys   map[string]int // pointer -> byte offset of the member's key
	order  map[string][]string
	last   map[string]*pyjson.Node // pointer -> node of the value that counts
	dups   []dup
	nonfin []string // pointers of NaN / Infinity literals
	inf    []string // pointers of numbers too large for a double (1e400), Infinity to Python
}

type dup struct {
	ptr         string
	first, next int // key offsets
}

func decode(root *pyjson.Node) *decoded {
	d := &decoded{values: map[string]int{}, keys: map[string]int{}, order: map[string][]string{}, last: map[string]*pyjson.Node{}}
	d.value = d.conv(root, "")
	return d
}

func (d *decoded) conv(n *pyjson.Node, ptr string) any {
	d.values[ptr] = n.Start
	d.last[ptr] = n
	switch n.Kind {
	case pyjson.String:
		return n.Str
	case pyjson.True:
		return true
	case pyjson.False:
		return false
	case pyjson.Null:
		return nil
	case pyjson.Number:
		if n.Num == "NaN" || n.Num == "Infinity" || n.Num == "-Infinity" {
			d.nonfin = append(d.nonfin, ptr)
		} else if pycompat.IsFloatNumber(json.Number(n.Num)) {
			if f, err := strconv.ParseFloat(n.Num, 64); err != nil && math.IsInf(f, 0) {
				d.inf = append(d.inf, ptr)
			}
		}
		return json.Number(n.Num)
	case pyjson.Array:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			out[i] = d.conv(it, ptr+"/"+strconv.Itoa(i))
		}
		return out
	}
	out := make(map[string]any, len(n.Members))
	var order []string
	firstKey := map[string]int{}
	for _, m := range n.Members {
		mp := ptr + jsonpointer.Join(m.Name)
		if off, seen := firstKey[m.Name]; seen {
			d.dups = append(d.dups, dup{ptr: mp, first: off, next: m.KeyStart})
		} else {
			firstKey[m.Name] = m.KeyStart
			order = append(order, m.Name)
			d.keys[mp] = m.KeyStart
		}
		out[m.Name] = d.conv(m.Value, mp)
	}
	d.order[ptr] = order
	return out
}

// keysAt gives jsonschemamsg the document order of an object's keys.
func (d *decoded) keysAt(path []string) []string {
	return d.order[jsonpointer.Join(path...)]
}

func (d *decoded) warnings(path string, li *pyjson.LineIndex) diag.List {
	var out diag.List
	for _, x := range d.dups {
		l, c := li.Pos(x.next)
		fl, _ := li.Pos(x.first)
		toks := jsonpointer.Split(x.ptr)
		out = append(out, diag.Problem{File: path, Line: l, Column: c, Pointer: x.ptr, Severity: diag.Warning,
			Message: fmt.Sprintf("duplicate key %s: this member (line %d) replaces the one at line %d", pycompat.ReprString(toks[len(toks)-1]), l, fl),
			Hint:    "remove one of the two members; dvp silently keeps the last one"})
	}
	for _, p := range d.nonfin {
		l, c := li.Pos(d.values[p])
		out = append(out, diag.Problem{File: path, Line: l, Column: c, Pointer: p, Severity: diag.Warning,
			Message: fmt.Sprintf("%s is not valid JSON; dvp accepts it, but most JSON tools and the Delphix engine may not", d.last[p].Num),
			Hint:    "use a finite number, or leave the keyword out"})
	}
	for _, p := range d.inf {
		l, c := li.Pos(d.values[p])
		inf := "Infinity"
		if strings.HasPrefix(d.last[p].Num, "-") {
			inf = "-Infinity"
		}
		out = append(out, diag.Problem{File: path, Line: l, Column: c, Pointer: p, Severity: diag.Warning,
			Message: fmt.Sprintf("%s is beyond the range of a floating-point number: dvp reads it as %s and the artifact holds %s, which is not valid JSON", d.last[p].Num, inf, inf),
			Hint:    "use a number within ±1.7976931348623157e+308, or leave the keyword out"})
	}
	return out
}

// forValidation returns the value with numbers the validator can compare
// exactly: float literals become the double Python reads (so 1e400 is inf),
// and the non-finite values get jsonschemamsg's stand-ins.
func forValidation(v any) any {
	switch v := v.(type) {
	case json.Number:
		return validationNumber(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = forValidation(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = forValidation(x)
		}
		return out
	}
	return v
}

func validationNumber(n json.Number) json.Number {
	switch n {
	case "NaN":
		return pycompat.FloatNumber(math.NaN())
	case "Infinity":
		return pycompat.FloatNumber(math.Inf(1))
	case "-Infinity":
		return pycompat.FloatNumber(math.Inf(-1))
	}
	if !pycompat.IsFloatNumber(n) {
		return n
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return n
		}
	}
	return pycompat.FloatNumber(f)
}
