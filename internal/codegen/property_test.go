package codegen

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// randomSchema builds a random valid schema.json (its six definitions) from
// a seed, over every construct the generator supports: nested objects,
// arrays, maps, enums of every kind, local and cross-definition $refs
// (recursive ones included), Delphix formats and platform $refs,
// oneOf/anyOf/allOf, type lists, constraints, odd property names and odd
// descriptions. The output is deterministic per seed.
func randomSchema(seed int64) map[string]json.RawMessage {
	g := &schemaGen{r: rand.New(rand.NewSource(seed))}
	defs := map[string]json.RawMessage{}
	for _, d := range Definitions {
		g.def = d
		defs[d] = json.RawMessage(g.object(0, true))
	}
	return defs
}

type schemaGen struct {
	r   *rand.Rand
	def string
}

var oddNames = []string{
	"name", "mountLocation", "source_address", "hostId", "hostID", "host_id", "serverURL", "httpPort",
	"user-name", "2fast", "3d_model", "123", "", "$", "$ref", "größe", "ñame", "名前", "😀", "type", "func",
	"package", "range", "map", "interface", "Validate", "MarshalJSON", "UnmarshalJSON", "LogValue",
	"additionalProperties", "AdditionalProperties", "a,b", `a"b`, `a\b`, "a'b", "-", "~/x", "x y", "ID",
	"MAX_VALUE", "someIDs", "x", "X", "d", "v", "raw", "key", "seen", "data", "err", "attrs", "plain", "extra",
	"recordSizeInKB", "port", "items", "value", "Value", "Item", "string", "int64", "nil", "true", "types", "json",
}

var oddTexts = []string{
	"plain text", "ends a comment */ here", "/* opens one", "multi\nline\n\ntext", "carriage\rreturn",
	"line\u2028separator", "tab\there", "control\x01char", "//go:generate rm -rf /", "`backticks`",
	"Heading Like", "trailing spaces   ", "\"quoted\"", "unicode ✓ größe", "",
}

var goodPatterns = []string{"^[a-z]+$", "^\\d{1,5}$", "[A-Z]", "^(a|b)*c?$", ".*", "^\\S+@\\S+$", "^[^/]+(/[^/]+)*$"}

func (g *schemaGen) pick(list []string) string { return list[g.r.Intn(len(list))] }

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// obj renders ordered members.
func obj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

func kv(k, v string) string { return q(k) + ":" + v }

func (g *schemaGen) docs() []string {
	var out []string
	if g.r.Intn(3) == 0 {
		out = append(out, kv("description", q(g.pick(oddTexts))))
	}
	if g.r.Intn(4) == 0 {
		out = append(out, kv("prettyName", q(g.pick(oddTexts))))
	}
	return out
}

func (g *schemaGen) object(depth int, top bool) string {
	var members []string
	members = append(members, kv("type", q("object")))
	n := g.r.Intn(6)
	if top {
		n += 2
	}
	var props, names []string
	used := map[string]bool{}
	for i := 0; i < n; i++ {
		name := g.pick(oddNames)
		if g.r.Intn(3) == 0 {
			name = fmt.Sprintf("p%d%s", i, g.pick([]string{"Id", "_url", "-x", "Name", ""}))
		}
		if used[name] {
			continue
		}
		used[name] = true
		names = append(names, name)
		props = append(props, kv(name, g.schema(depth+1)))
	}
	members = append(members, kv("properties", obj(props...)))
	var req []string
	for _, nm := range names {
		if g.r.Intn(2) == 0 {
			req = append(req, q(nm))
		}
	}
	if g.r.Intn(8) == 0 {
		req = append(req, q("undeclared"))
	}
	if len(req) > 0 {
		members = append(members, kv("required", "["+strings.Join(req, ",")+"]"))
	}
	switch g.r.Intn(4) {
	case 0:
		members = append(members, kv("additionalProperties", "false"))
	case 1:
		members = append(members, kv("additionalProperties", "true"))
	case 2:
		if depth < 3 {
			members = append(members, kv("additionalProperties", g.schema(depth+2)))
		}
	}
	if top {
		if g.def == "repositoryDefinition" || g.def == "sourceConfigDefinition" {
			members = append(members, kv("nameField", q("name")), kv("identityFields", `["name"]`))
		}
		// definitions with a recursive one, referenced from a property
		members = append(members, kv("definitions", obj(
			kv("node", obj(kv("type", q("object")), kv("required", `["label"]`), kv("properties", obj(
				kv("label", obj(kv("type", q("string")), kv("minLength", "1"))),
				kv("child", obj(kv("$ref", q("#/definitions/node")))),
				kv("kids", obj(kv("type", q("array")), kv("items", obj(kv("$ref", q("#/definitions/node"))))))))),
			),
			kv("port", obj(kv("type", q("integer")), kv("minimum", "1"), kv("maximum", "65535"))),
		)))
	}
	members = append(members, g.docs()...)
	return obj(members...)
}

func (g *schemaGen) schema(depth int) string {
	choices := 22
	if depth > 3 {
		choices = 8 // scalars only
	}
	docs := g.docs()
	with := func(m ...string) string { return obj(append(m, docs...)...) }
	switch g.r.Intn(choices) {
	case 0, 1:
		m := []string{kv("type", q("string"))}
		if g.r.Intn(2) == 0 {
			m = append(m, kv("minLength", strconv.Itoa(g.r.Intn(3))))
		}
		if g.r.Intn(2) == 0 {
			m = append(m, kv("maxLength", strconv.Itoa(3+g.r.Intn(10))))
		}
		if g.r.Intn(3) == 0 {
			m = append(m, kv("pattern", q(g.pick(goodPatterns))))
		}
		if g.r.Intn(3) == 0 {
			m = append(m, kv("format", q(g.pick([]string{"password", "unixpath", "reference", "date-time", "windowspath"}))))
			m = append(m, kv("referenceType", q("UNIX_HOST_ENVIRONMENT")))
		}
		if g.r.Intn(3) == 0 {
			m = append(m, kv("default", q("dflt")))
		}
		return with(m...)
	case 2:
		return with(kv("type", q("string")), kv("enum", `["a","A","a-b","a_b","","1x","READ_ONLY","read only","✓",`+q(g.pick(oddNames))+`]`))
	case 3:
		m := []string{kv("type", q("integer"))}
		for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} {
			if g.r.Intn(3) == 0 {
				v := g.pick([]string{"0", "1", "-5", "2.5", "1e30", "-1e30", "65535", "9223372036854775807", "3"})
				if k == "multipleOf" {
					v = g.pick([]string{"1", "2", "0.5", "1e30"})
				}
				m = append(m, kv(k, v))
			}
		}
		return with(m...)
	case 4:
		return with(kv("type", q("integer")), kv("enum", `[1, 2, -3, 1.0, 2.5, "x", 9223372036854775807]`))
	case 5:
		m := []string{kv("type", q("number"))}
		if g.r.Intn(2) == 0 {
			m = append(m, kv("minimum", "-1.5"), kv("exclusiveMaximum", "1e10"))
		}
		if g.r.Intn(3) == 0 {
			m = append(m, kv("enum", "[0.5, 1, -2.25, 1e-7]"))
		}
		return with(m...)
	case 6:
		m := []string{kv("type", q("boolean"))}
		if g.r.Intn(3) == 0 {
			m = append(m, kv("enum", "[true]"))
		}
		return with(m...)
	case 7:
		return with(kv("$ref", q("#/definitions/port")))
	case 8, 9:
		return g.object(depth, false)
	case 10, 11:
		m := []string{kv("type", q("array")), kv("items", g.schema(depth+1))}
		if g.r.Intn(2) == 0 {
			m = append(m, kv("minItems", "1"), kv("maxItems", "9"))
		}
		if g.r.Intn(2) == 0 {
			m = append(m, kv("uniqueItems", "true"))
		}
		return with(m...)
	case 12:
		return with(kv("type", q("object")), kv("additionalProperties", g.schema(depth+1)), kv("minProperties", "1"))
	case 13:
		return with(kv("$ref", q("https://delphix.com/platform/api#/definitions/"+g.pick([]string{"credentialsSupplier", "keyCredentialsSupplier", "passwordCredentialsSupplier", "somethingElse"}))))
	case 14:
		return with(kv("$ref", q("#/definitions/node")))
	case 15:
		return with(kv(g.pick([]string{"oneOf", "anyOf"}), `[{"type":"string"},{"type":"integer","minimum":2}]`))
	case 16:
		return with(kv("allOf", `[{"$ref":"#/definitions/node"},{"type":"object","properties":{"extraProp":{"type":"boolean"}}}]`))
	case 17:
		return with(kv("allOf", `[{"type":"string"},{"minLength":2}]`))
	case 18:
		return with(kv("type", `["string","null"]`))
	case 19:
		return g.pick([]string{"{}", "true", `{"type":"object"}`, `{"type":"object","additionalProperties":false}`, `{"type":"null"}`, `{"const":"fixed"}`, `{"type":"array","items":[{"type":"string"}]}`, `{"type":"array"}`})
	case 20:
		return with(kv("$ref", q("#/repositoryDefinition/definitions/port")))
	default:
		return with(kv("type", q("object")), kv("properties", obj(kv("inner", g.schema(depth+2)))), kv("not", `{"required":["x"]}`))
	}
}
