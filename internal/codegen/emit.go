package codegen

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

const (
	jsonPath  = "encoding/json"
	slogPath  = "log/slog"
	regexPath = "regexp"
)

// emitDoc writes doc.go: the package comment.
func emitDoc(m *model, opts Options) map[string]*jen.File {
	f := newFile(opts)
	text := fmt.Sprintf(`Package %s holds the Go types that dvp generated from the plugin's %s:
one struct per definition (RepositoryDefinition, SourceConfigDefinition,
LinkedSourceDefinition, VirtualSourceDefinition, SnapshotDefinition,
SnapshotParametersDefinition), one per nested object and one per enum.

Do not edit these files: "dvp build" regenerates them. UnmarshalJSON checks
JSON types, required and unknown properties; Validate checks the other
constraints of the schema. Optional properties are pointers (or nil slices
and maps): nil means absent and is not written back.`, opts.Package, filepath.Base(m.file))
	f.PackageComment(comment(strings.Split(text, "\n")))
	return map[string]*jen.File{"doc.go": f}
}

// emitDefinitions writes one file per definition with the types it owns.
func emitDefinitions(m *model, opts Options) map[string]*jen.File {
	out := map[string]*jen.File{}
	for _, def := range Definitions {
		e := &fileEmitter{f: newFile(opts), prefix: def, patterns: map[string]string{}}
		for _, nt := range m.typesOf(def) {
			if nt.isEnum {
				e.emitEnum(nt)
			} else {
				e.emitStruct(nt)
			}
		}
		if def == "repositoryDefinition" || def == "sourceConfigDefinition" {
			e.emitNamedConstructor(m.topType[def])
		}
		e.emitPatterns()
		out[fileName(def)] = e.f
	}
	return out
}

// fileEmitter renders the types of one file.
type fileEmitter struct {
	f        *jen.File
	prefix   string            // names the file's unexported variables
	patterns map[string]string // pattern -> variable
	order    []string
}

func (e *fileEmitter) patternVar(p string) string {
	if v, ok := e.patterns[p]; ok {
		return v
	}
	v := fmt.Sprintf("%sPattern%d", e.prefix, len(e.order)+1)
	e.patterns[p] = v
	e.order = append(e.order, p)
	return v
}

func (e *fileEmitter) emitPatterns() {
	if len(e.order) == 0 {
		return
	}
	e.f.Comment("// The patterns of the schema, compiled once.")
	e.f.Var().DefsFunc(func(g *jen.Group) {
		for _, p := range e.order {
			g.Id(e.patterns[p]).Op("=").Qual(regexPath, "MustCompile").Call(jen.Lit(p))
		}
	})
}

// typ renders the Go type of t (a pointer to it when ptr).
func typ(t *gotype, ptr bool) *jen.Statement {
	var s *jen.Statement
	switch t.kind {
	case tString:
		s = jen.String()
	case tInt:
		s = jen.Int64()
	case tNumber:
		s = jen.Float64()
	case tBool:
		s = jen.Bool()
	case tPassword:
		s = jen.Qual(typesPath, "Password")
	case tRaw:
		s = jen.Qual(jsonPath, "RawMessage")
	case tStruct, tEnum:
		s = jen.Id(t.named.name)
	case tSlice:
		s = jen.Index().Add(typ(t.elem, false))
	case tMap:
		s = jen.Map(jen.String()).Add(typ(t.elem, false))
	case tSupplier:
		s = jen.Qual(typesPath, t.supplier)
	}
	if ptr {
		return jen.Op("*").Add(s)
	}
	return s
}

func tag(f *field) map[string]string {
	if !f.tagged {
		return map[string]string{"json": "-"}
	}
	name := f.json
	if name == "-" {
		name = "-,"
	}
	if !f.required {
		if strings.HasSuffix(name, ",") {
			name += "omitzero"
		} else {
			name += ",omitzero"
		}
	}
	return map[string]string{"json": name}
}

func typeDoc(nt *named) string {
	var lines []string
	if strings.Count(nt.ptr, "/") == 1 {
		lines = append(lines, fmt.Sprintf("%s is the %s schema of the plugin.", nt.name, strings.TrimPrefix(nt.ptr, "/")))
	} else if nt.isEnum {
		lines = append(lines, fmt.Sprintf("%s is the enum at %s.", nt.name, nt.ptr))
	} else {
		lines = append(lines, fmt.Sprintf("%s is the object at %s.", nt.name, nt.ptr))
	}
	if len(nt.doc) > 0 {
		lines = append(lines, "")
		lines = append(lines, nt.doc...)
	}
	return comment(lines)
}

func (e *fileEmitter) emitStruct(nt *named) {
	f := e.f
	f.Comment(typeDoc(nt))
	f.Type().Id(nt.name).StructFunc(func(g *jen.Group) {
		for _, fl := range nt.fields {
			if len(fl.doc) > 0 {
				g.Comment(comment(fl.doc))
			}
			g.Id(fl.name).Add(typ(fl.t, fl.pointer)).Tag(tag(fl))
		}
		if nt.extra != nil {
			g.Comment("// AdditionalProperties holds the properties that the schema does not declare,\n// by name, as they were decoded; MarshalJSON writes them back.")
			g.Id(nt.extraName).Map(jen.String()).Add(typ(nt.extra, false)).Tag(map[string]string{"json": "-"})
		}
	})
	e.emitUnmarshal(nt)
	if nt.extra != nil || nt.untaggable {
		e.emitMarshal(nt)
	}
	e.emitValidate(nt)
	if nt.secret {
		e.emitLogValue(nt)
	}
}

func recv(nt *named, ptr bool) *jen.Statement {
	if ptr {
		return jen.Params(jen.Id("x").Op("*").Id(nt.name))
	}
	return jen.Params(jen.Id("x").Id(nt.name))
}

func xField(name string) func() *jen.Statement {
	return func() *jen.Statement { return jen.Id("x").Dot(name) }
}

func (e *fileEmitter) emitUnmarshal(nt *named) {
	f := e.f
	f.Comment("// UnmarshalJSON decodes x from JSON. It reports every value of the wrong JSON\n// type, every missing required property and every property the schema does\n// not allow, each with its JSON pointer (types.ValidationErrors). Validate\n// checks the other constraints.")
	f.Func().Add(recv(nt, true)).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.If(jen.Err().Op(":=").Qual(typesPath, "CheckSyntax").Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Return(jen.Id("x").Dot("decodeJSON").Call(jen.Id("data"))),
	)

	var body []jen.Code
	body = append(body,
		jen.Var().Id("d").Qual(typesPath, "Decoder"),
		jen.Op("*").Id("x").Op("=").Id(nt.name).Values(),
		jen.If(jen.Op("!").Id("d").Dot("Expect").Call(jen.Id("data"), jen.Qual(typesPath, "JSONObject"))).Block(jen.Return(jen.Id("d").Dot("Err").Call())),
	)
	seen := map[*field]int{}
	for _, fl := range nt.fields {
		if fl.required {
			seen[fl] = len(seen)
		}
	}
	if len(seen) > 0 {
		body = append(body, jen.Var().Id("seen").Index(jen.Lit(len(seen))).Bool())
	}
	var unknown []jen.Code
	keyPath := []jen.Code{jen.Id("key")}
	usesRaw := len(nt.fields) > 0
	switch {
	case nt.closed && len(nt.fields) > 0:
		// The declared names, for a "did you mean" when only case differs.
		args := []jen.Code{jen.Id("key")}
		for _, fl := range nt.fields {
			args = append(args, jen.Lit(fl.json))
		}
		unknown = []jen.Code{jen.Id("d").Dot("UnknownOf").Call(args...)}
	case nt.closed:
		unknown = []jen.Code{jen.Id("d").Dot("Unknown").Call(jen.Id("key"))}
	default:
		usesRaw = true
		target := xField(nt.extraName)
		unknown = append(unknown, jen.If(target().Op("==").Nil()).Block(target().Op("=").Map(jen.String()).Add(typ(nt.extra, false)).Values()))
		unknown = append(unknown, e.decodeElem(nt.extra, func(v jen.Code) []jen.Code {
			return []jen.Code{target().Index(jen.Id("key")).Op("=").Add(v)}
		}, jen.Id("raw"), keyPath, 1)...)
	}
	var loopBody []jen.Code
	if len(nt.fields) > 0 {
		loopBody = append(loopBody, jen.Switch(jen.Id("key")).BlockFunc(func(g *jen.Group) {
			for _, fl := range nt.fields {
				path := []jen.Code{jen.Lit(fl.json)}
				var stmts []jen.Code
				if fl.pointer {
					if x := e.decodeExpr(fl.t, jen.Id("raw"), path); x != nil {
						stmts = append(stmts, xField(fl.name)().Op("=").Qual(typesPath, "Ptr").Call(x))
					} else {
						stmts = append(stmts, xField(fl.name)().Op("=").New(typ(fl.t, false)))
						stmts = append(stmts, e.decodeInto(fl.t, xField(fl.name), jen.Id("raw"), path, 1)...)
					}
				} else {
					stmts = append(stmts, e.decodeInto(fl.t, xField(fl.name), jen.Id("raw"), path, 1)...)
				}
				if i, ok := seen[fl]; ok {
					stmts = append(stmts, jen.Id("seen").Index(jen.Lit(i)).Op("=").True())
				}
				g.Case(jen.Lit(fl.json)).Block(stmts...)
			}
			g.Default().Block(unknown...)
		}))
	} else {
		loopBody = unknown
	}
	vars := jen.Id("key")
	if usesRaw {
		vars = jen.List(jen.Id("key"), jen.Id("raw"))
	}
	body = append(body, jen.For(vars.Op(":=").Range().Id("d").Dot("Object").Call(jen.Id("data"))).Block(loopBody...))
	for _, fl := range nt.fields {
		if i, ok := seen[fl]; ok {
			body = append(body, jen.Id("d").Dot("Required").Call(jen.Id("seen").Index(jen.Lit(i)), jen.Lit(fl.json)))
		}
	}
	body = append(body, jen.Return(jen.Id("d").Dot("Err").Call()))
	f.Comment("// decodeJSON is UnmarshalJSON for JSON already known to be well-formed.")
	f.Func().Add(recv(nt, true)).Id("decodeJSON").Params(jen.Id("data").Index().Byte()).Error().Block(body...)
}

func jsonTypesExpr(names []string) jen.Code {
	consts := map[string]string{"null": "JSONNull", "boolean": "JSONBoolean", "object": "JSONObject", "array": "JSONArray", "number": "JSONNumber", "string": "JSONString", "integer": "JSONInteger"}
	var s *jen.Statement
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := consts[n]
		if !ok || seen[c] {
			continue
		}
		seen[c] = true
		if s == nil {
			s = jen.Qual(typesPath, c)
		} else {
			s = s.Op("|").Qual(typesPath, c)
		}
	}
	if s == nil {
		return jen.Qual(typesPath, "JSONAny")
	}
	return s
}

func dcall(method string, raw jen.Code, path []jen.Code) *jen.Statement {
	return jen.Id("d").Dot(method).Call(append([]jen.Code{raw}, path...)...)
}

// decodeExpr returns an expression decoding raw into a value of t, or nil
// when t needs statements.
func (e *fileEmitter) decodeExpr(t *gotype, raw jen.Code, path []jen.Code) jen.Code {
	switch t.kind {
	case tString:
		return dcall("String", raw, path)
	case tPassword:
		return jen.Qual(typesPath, "Password").Call(dcall("String", raw, path))
	case tInt:
		return dcall("Int", raw, path)
	case tNumber:
		return dcall("Number", raw, path)
	case tBool:
		return dcall("Bool", raw, path)
	case tEnum:
		base := map[kind]string{tString: "String", tInt: "Int", tNumber: "Number"}[t.named.base]
		return jen.Id(t.named.name).Call(dcall(base, raw, path))
	case tRaw:
		return jen.Id("d").Dot("Raw").Call(append([]jen.Code{raw, jsonTypesExpr(t.rawTypes)}, path...)...)
	}
	return nil
}

func withSeg(path []jen.Code, seg jen.Code) []jen.Code {
	out := make([]jen.Code, 0, len(path)+1)
	return append(append(out, path...), seg)
}

// decodeElem decodes raw as a value of t and hands the value to use.
func (e *fileEmitter) decodeElem(t *gotype, use func(v jen.Code) []jen.Code, raw jen.Code, path []jen.Code, depth int) []jen.Code {
	if x := e.decodeExpr(t, raw, path); x != nil {
		return use(x)
	}
	v := fmt.Sprintf("v%d", depth)
	out := []jen.Code{jen.Var().Id(v).Add(typ(t, false))}
	// (the loops inside use depth+1)
	out = append(out, e.decodeInto(t, func() *jen.Statement { return jen.Id(v) }, raw, path, depth+1)...)
	return append(out, use(jen.Id(v))...)
}

// decodeInto decodes raw into the (addressable) target.
func (e *fileEmitter) decodeInto(t *gotype, target func() *jen.Statement, raw jen.Code, path []jen.Code, depth int) []jen.Code {
	if x := e.decodeExpr(t, raw, path); x != nil {
		return []jen.Code{target().Op("=").Add(x)}
	}
	switch t.kind {
	case tStruct:
		return []jen.Code{jen.Id("d").Dot("Nest").Call(append([]jen.Code{target().Dot("decodeJSON").Call(raw)}, path...)...)}
	case tSupplier:
		return []jen.Code{jen.Id("d").Dot("Nest").Call(append([]jen.Code{target().Dot("UnmarshalJSON").Call(raw)}, path...)...)}
	case tSlice:
		i, r := fmt.Sprintf("i%d", depth), fmt.Sprintf("raw%d", depth)
		body := e.decodeElem(t.elem, func(v jen.Code) []jen.Code {
			return []jen.Code{target().Op("=").Append(target(), v)}
		}, jen.Id(r), withSeg(path, jen.Id(i)), depth)
		return []jen.Code{
			target().Op("=").Add(typ(t, false)).Values(),
			jen.For(jen.List(jen.Id(i), jen.Id(r)).Op(":=").Range().Add(dcall("Array", raw, path))).Block(body...),
		}
	case tMap:
		k, r := fmt.Sprintf("k%d", depth), fmt.Sprintf("raw%d", depth)
		out := []jen.Code{target().Op("=").Add(typ(t, false)).Values()}
		if t.closed {
			return append(out, jen.For(jen.Id(k).Op(":=").Range().Add(dcall("Object", raw, path))).Block(
				jen.Id("d").Dot("Unknown").Call(withSeg(path, jen.Id(k))...)))
		}
		body := e.decodeElem(t.elem, func(v jen.Code) []jen.Code {
			return []jen.Code{target().Index(jen.Id(k)).Op("=").Add(v)}
		}, jen.Id(r), withSeg(path, jen.Id(k)), depth)
		return append(out, jen.For(jen.List(jen.Id(k), jen.Id(r)).Op(":=").Range().Add(dcall("Object", raw, path))).Block(body...))
	}
	panic(fmt.Sprintf("codegen: cannot decode kind %d", t.kind))
}

func (e *fileEmitter) emitMarshal(nt *named) {
	f := e.f
	var body []jen.Code
	body = append(body, jen.Type().Id("plain").Id(nt.name))
	if !nt.untaggable {
		f.Comment("// MarshalJSON encodes x, AdditionalProperties included.")
		body = append(body, jen.Return(jen.Qual(typesPath, "MarshalObject").Call(jen.Id("plain").Call(jen.Id("x")), xField(nt.extraName)())))
	} else {
		f.Comment("// MarshalJSON encodes x, including the properties whose names a struct tag\n// cannot spell (and AdditionalProperties, if any).")
		body = append(body, jen.Id("extra").Op(":=").Map(jen.String()).Any().Values())
		if nt.extra != nil {
			body = append(body, jen.For(jen.List(jen.Id("k"), jen.Id("v")).Op(":=").Range().Add(xField(nt.extraName)())).Block(
				jen.Id("extra").Index(jen.Id("k")).Op("=").Id("v")))
		}
		for _, fl := range nt.fields {
			if fl.tagged {
				continue
			}
			set := jen.Id("extra").Index(jen.Lit(fl.json)).Op("=").Add(xField(fl.name)())
			if fl.required {
				body = append(body, set)
			} else {
				body = append(body, jen.If(xField(fl.name)().Op("!=").Nil()).Block(set))
			}
		}
		body = append(body, jen.Return(jen.Qual(typesPath, "MarshalObject").Call(jen.Id("plain").Call(jen.Id("x")), jen.Id("extra"))))
	}
	f.Func().Add(recv(nt, false)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(body...)
}

func (e *fileEmitter) emitEnum(nt *named) {
	f := e.f
	f.Comment(typeDoc(nt))
	f.Type().Id(nt.name).Add(typ(&gotype{kind: nt.base}, false))
	var allowed []string
	for _, v := range nt.values {
		allowed = append(allowed, v.json)
	}
	if len(nt.values) > 0 {
		f.Comment(fmt.Sprintf("// The values of %s.", nt.name))
		f.Const().DefsFunc(func(g *jen.Group) {
			for _, v := range nt.values {
				var lit jen.Code
				switch x := v.value.(type) {
				case string:
					lit = jen.Lit(x)
				case int64:
					lit = jen.Op(strconv.FormatInt(x, 10))
				case float64:
					lit = jen.Lit(x)
				}
				g.Id(v.name).Id(nt.name).Op("=").Add(lit)
			}
		})
	}
	f.Comment(fmt.Sprintf("// Validate returns an error unless v is one of the values of %s.", nt.name))
	var body []jen.Code
	msg := "no value is allowed"
	if len(allowed) > 0 {
		cases := make([]jen.Code, len(nt.values))
		for i, v := range nt.values {
			cases[i] = jen.Id(v.name)
		}
		body = append(body, jen.Switch(jen.Id("v")).Block(jen.Case(cases...).Block(jen.Return(jen.Nil()))))
		msg = "must be one of " + strings.Join(allowed, ", ")
	}
	body = append(body, jen.Return(jen.Qual(typesPath, "Invalid").Call(jen.Lit(msg))))
	f.Func().Params(jen.Id("v").Id(nt.name)).Id("Validate").Params().Error().Block(body...)
}

// emitLogValue writes LogValue for a struct that holds secrets, so that
// log/slog (even its JSON handler, which would use MarshalJSON) shows them
// masked.
func (e *fileEmitter) emitLogValue(nt *named) {
	f := e.f
	f.Comment("// LogValue gives log/slog a view of x in which every secret (passwords,\n// credentials suppliers) is masked.")
	body := []jen.Code{jen.Id("attrs").Op(":=").Make(jen.Index().Qual(slogPath, "Attr"), jen.Lit(0), jen.Lit(len(nt.fields)+1))}
	add := func(key string, v jen.Code) jen.Code {
		return jen.Id("attrs").Op("=").Append(jen.Id("attrs"), jen.Qual(slogPath, "Any").Call(jen.Lit(key), v))
	}
	for _, fl := range nt.fields {
		x := xField(fl.name)
		switch {
		case fl.pointer:
			var v jen.Code
			if typeSecret(fl.t) {
				v = logValue(fl.t, x)
			} else {
				v = jen.Op("*").Add(x())
			}
			body = append(body, jen.If(x().Op("!=").Nil()).Block(add(fl.json, v)))
		case nilable(fl.t):
			body = append(body, jen.If(x().Op("!=").Nil()).Block(add(fl.json, logValue(fl.t, x))))
		default:
			body = append(body, add(fl.json, logValue(fl.t, x)))
		}
	}
	if nt.extra != nil {
		x := xField(nt.extraName)
		body = append(body, jen.If(jen.Len(x()).Op(">").Lit(0)).Block(add("additionalProperties", logValue(&gotype{kind: tMap, elem: nt.extra}, x))))
	}
	body = append(body, jen.Return(jen.Qual(slogPath, "GroupValue").Call(jen.Id("attrs").Op("..."))))
	f.Func().Add(recv(nt, false)).Id("LogValue").Params().Qual(slogPath, "Value").Block(body...)
}

// logValue renders a value for slog.Any: secrets go through their LogValue,
// containers of secrets through types.LogSlice / types.LogMap.
func logValue(t *gotype, val func() *jen.Statement) jen.Code {
	if !typeSecret(t) {
		return val()
	}
	switch t.kind {
	case tSlice:
		return jen.Qual(typesPath, "LogSlice").Call(val(), logFunc(t.elem))
	case tMap:
		return jen.Qual(typesPath, "LogMap").Call(val(), logFunc(t.elem))
	}
	return val().Dot("LogValue").Call()
}

// logFunc renders a func(T) slog.Value for the items of a container.
func logFunc(t *gotype) jen.Code {
	switch t.kind {
	case tStruct, tPassword, tSupplier:
		return typ(t, false).Dot("LogValue")
	}
	return jen.Func().Params(jen.Id("e").Add(typ(t, false))).Qual(slogPath, "Value").Block(
		jen.Return(jen.Qual(slogPath, "AnyValue").Call(logValue(t, func() *jen.Statement { return jen.Id("e") }))))
}

// emitNamedConstructor writes New<Type>(name), which returns a value whose
// nameField property is name. Code that only names a discovered object
// (dvp init's plugin) then compiles whatever the schema's other
// properties are, and whether the name is required (a string) or not (a
// *string); when nameField names no string property, the value is empty.
func (e *fileEmitter) emitNamedConstructor(nt *named) {
	fn := "New" + nt.name
	var target *field
	for _, fl := range nt.fields {
		if fl.json == nt.nameField && fl.t.kind == tString {
			target = fl
			break
		}
	}
	if target == nil {
		e.f.Comment(comment([]string{
			fmt.Sprintf("%s returns an empty %s: its nameField (%q)", fn, nt.name, nt.nameField),
			"names no string property of the schema, so name is not used.",
		}))
		e.f.Func().Id(fn).Params(jen.Id("name").String()).Id(nt.name).Block(jen.Return(jen.Id(nt.name).Values()))
		return
	}
	e.f.Comment(comment([]string{
		fmt.Sprintf("%s returns a %s named name: its nameField", fn, nt.name),
		fmt.Sprintf("(%q, the field %s) is name and its other fields are zero.", nt.nameField, target.name),
	}))
	val := jen.Id("name")
	if target.pointer {
		val = jen.Op("&").Id("name")
	}
	e.f.Func().Id(fn).Params(jen.Id("name").String()).Id(nt.name).Block(
		jen.Return(jen.Id(nt.name).Values(jen.Dict{jen.Id(target.name): val})))
}
