package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

// decoded is the parsed document as Python's json.load builds it, with the
// positions of every value and key.
type decoded struct {
	value  any
	values map[string]int // pointer -> byte offset of the value
	keys   map[string]int // pointer -> byte offset of the member's key
	order  map[string][]string
	last   map[string]*jnode // pointer -> node of the value that counts
	dups   []dup
	nonfin []string // pointers of NaN / Infinity literals
}

type dup struct {
	ptr         string
	first, next int // key offsets
}

func decode(root *jnode) *decoded {
	d := &decoded{values: map[string]int{}, keys: map[string]int{}, order: map[string][]string{}, last: map[string]*jnode{}}
	d.value = d.conv(root, "")
	return d
}

func (d *decoded) conv(n *jnode, ptr string) any {
	d.values[ptr] = n.start
	d.last[ptr] = n
	switch n.kind {
	case jString:
		return n.str
	case jTrue:
		return true
	case jFalse:
		return false
	case jNull:
		return nil
	case jNumber:
		if n.num == "NaN" || n.num == "Infinity" || n.num == "-Infinity" {
			d.nonfin = append(d.nonfin, ptr)
		}
		return json.Number(n.num)
	case jArray:
		out := make([]any, len(n.items))
		for i, it := range n.items {
			out[i] = d.conv(it, ptr+"/"+strconv.Itoa(i))
		}
		return out
	}
	out := make(map[string]any, len(n.members))
	var order []string
	firstKey := map[string]int{}
	for _, m := range n.members {
		mp := ptr + jsonschemamsg.JoinPointer([]string{m.name})
		if off, seen := firstKey[m.name]; seen {
			d.dups = append(d.dups, dup{ptr: mp, first: off, next: m.keyStart})
		} else {
			firstKey[m.name] = m.keyStart
			order = append(order, m.name)
			d.keys[mp] = m.keyStart
		}
		out[m.name] = d.conv(m.value, mp)
	}
	d.order[ptr] = order
	return out
}

// keysAt gives jsonschemamsg the document order of an object's keys.
func (d *decoded) keysAt(path []string) []string {
	return d.order[jsonschemamsg.JoinPointer(path)]
}

func (d *decoded) warnings(path string, li *lineIndex) diag.List {
	var out diag.List
	for _, x := range d.dups {
		l, c := li.pos(x.next)
		fl, _ := li.pos(x.first)
		toks := jsonschemamsg.SplitPointer(x.ptr)
		out = append(out, diag.Problem{File: path, Line: l, Column: c, Pointer: x.ptr, Severity: diag.Warning,
			Message: fmt.Sprintf("duplicate key %s: this member (line %d) replaces the one at line %d", jsonschemamsg.ReprString(toks[len(toks)-1]), l, fl),
			Hint:    "remove one of the two members; dvp (Python's json) silently keeps the last one"})
	}
	for _, p := range d.nonfin {
		l, c := li.pos(d.values[p])
		out = append(out, diag.Problem{File: path, Line: l, Column: c, Pointer: p, Severity: diag.Warning,
			Message: fmt.Sprintf("%s is not valid JSON; dvp (Python's json) accepts it, but most JSON tools and the Delphix engine may not", d.last[p].num),
			Hint:    "use a finite number, or leave the keyword out"})
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
		return jsonschemamsg.FloatNumber(math.NaN())
	case "Infinity":
		return jsonschemamsg.FloatNumber(math.Inf(1))
	case "-Infinity":
		return jsonschemamsg.FloatNumber(math.Inf(-1))
	}
	if !jsonschemamsg.IsFloatNumber(n) {
		return n
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return n
		}
	}
	return jsonschemamsg.FloatNumber(f)
}
