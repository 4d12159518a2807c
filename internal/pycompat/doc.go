// Package pycompat and its subpackages hold everything in dvp that exists
// only to behave exactly like Python, so that dvp's verdicts and messages
// match those of Delphix's dvp 5.0.1, the Python tool plugin authors and
// their scripts already know (docs/compatibility.md lists what is kept and
// where dvp differs):
//
//   - pycompat: Python's repr() of strings, numbers and JSON-like values,
//     its wording of file-system errors (OSError) and its strict UTF-8
//     decoder's verdicts;
//   - pycompat/pyyaml: a port of PyYAML's reader, scanner, parser and
//     composer (YAML 1.1 as yaml.safe_load reads it), because no Go YAML
//     library accepts, refuses and positions errors as PyYAML does; it is
//     MIT-licensed like PyYAML (see the LICENSE file there);
//   - pycompat/pyjson: json.load's parser (errors and positions) and
//     json.dump's encoder (the bytes of artifact.json and request bodies).
//
// The layer is a leaf: it depends on the standard library, gopkg.in/yaml.v3
// (the node tree pyyaml returns) and internal/jsonpointer only, never on the
// rest of dvp; the product imports it, not the other way round. Code that
// is not about matching Python does not belong here.
package pycompat
