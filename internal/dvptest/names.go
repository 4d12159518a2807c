package dvptest

import (
	"fmt"

	"github.com/dvpkit/dvp/internal/fsutil"
	"gopkg.in/yaml.v3"
)

// ScenarioName is a scenario's name and how many steps it has, as
// ScenarioNames reads them.
type ScenarioName struct {
	Name  string
	Steps int
}

// ScenarioNames reads the names of the scenarios of the spec at path, in
// their order, for shell completion of dvp test --run: only the YAML is
// read (no ${NAME} resolved, no other check), so that a spec with
// mistakes elsewhere still offers its names. A file that is not a regular
// file, is over the spec's bound or is not YAML gives an error.
func ScenarioNames(path string) ([]ScenarioName, error) {
	data, err := fsutil.ReadRegular(path, maxSpecSize)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a mapping", path)
	}
	scenarios := mappingValue(doc.Content[0], "scenarios")
	if scenarios == nil || scenarios.Kind != yaml.SequenceNode {
		return nil, nil
	}
	var out []ScenarioName
	for _, sc := range scenarios.Content {
		if sc.Kind != yaml.MappingNode {
			continue
		}
		name := mappingValue(sc, "name")
		if name == nil || name.Kind != yaml.ScalarNode || name.Value == "" {
			continue
		}
		n := ScenarioName{Name: name.Value}
		if steps := mappingValue(sc, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
			n.Steps = len(steps.Content)
		}
		out = append(out, n)
	}
	return out, nil
}

// mappingValue is the value of key in the YAML mapping m, nil if absent.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
