package codegen

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// bigSchema builds a linkedSourceDefinition with n properties: objects of
// 100 properties each (every kind of property, with constraints, enums,
// arrays of objects and maps), nested two levels deep.
func bigSchema(n int) map[string]json.RawMessage {
	const perObject = 100
	kinds := []string{
		`{"type":"string","minLength":1,"maxLength":64,"description":"A string property."}`,
		`{"type":"string","pattern":"^[a-z][a-z0-9_]*$"}`,
		`{"type":"string","format":"password"}`,
		`{"type":"string","format":"unixpath","prettyName":"Path"}`,
		`{"type":"integer","minimum":1,"maximum":65535}`,
		`{"type":"number","exclusiveMinimum":0}`,
		`{"type":"boolean","default":true}`,
		`{"type":"string","enum":["small","medium","large"]}`,
		`{"type":"array","items":{"type":"string"},"uniqueItems":true}`,
		`{"type":"object","additionalProperties":{"type":"integer"}}`,
	}
	var objects []string
	prop := 0
	for o := 0; prop < n; o++ {
		var props, req []string
		for i := 0; i < perObject && prop < n; i++ {
			name := fmt.Sprintf("prop%dName%d", o, i)
			props = append(props, fmt.Sprintf("%q:%s", name, kinds[i%len(kinds)]))
			if i%3 == 0 {
				req = append(req, fmt.Sprintf("%q", name))
			}
			prop++
		}
		objects = append(objects, fmt.Sprintf(`{"type":"object","additionalProperties":false,"required":[%s],"properties":{%s}}`, strings.Join(req, ","), strings.Join(props, ",")))
	}
	// group the objects ten by ten under an intermediate object, and make
	// every tenth group an array of objects
	var groups []string
	for g := 0; g*10 < len(objects); g++ {
		var members []string
		for i := g * 10; i < (g+1)*10 && i < len(objects); i++ {
			members = append(members, fmt.Sprintf(`"section%d":%s`, i, objects[i]))
		}
		group := fmt.Sprintf(`{"type":"object","properties":{%s}}`, strings.Join(members, ","))
		if g%10 == 9 {
			group = fmt.Sprintf(`{"type":"array","items":%s}`, group)
		}
		groups = append(groups, fmt.Sprintf(`"group%d":%s`, g, group))
	}
	defs := map[string]json.RawMessage{}
	for _, d := range Definitions {
		defs[d] = json.RawMessage(defaultDefinition)
	}
	defs["linkedSourceDefinition"] = json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{%s}}`, strings.Join(groups, ",")))
	return defs
}

func benchmarkGenerate(b *testing.B, n int) {
	defs := bigSchema(n)
	res, err := Generate(defs, Options{})
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, f := range res.Files {
		size += len(f)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(defs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes-out")
}

func BenchmarkGenerate5k(b *testing.B)  { benchmarkGenerate(b, 5000) }
func BenchmarkGenerate50k(b *testing.B) { benchmarkGenerate(b, 50000) }
