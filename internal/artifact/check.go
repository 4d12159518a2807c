package artifact

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Patterns of plugin_config.yml values that reach the artifact (docs/validation.md, plugin_config.yml).
var (
	PluginIDPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}$`)
	})
	EntryPointPattern        = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[^:]+:[^:]+$`) })
	LuaNamePattern           = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_:-]+$`) })
	MinimumLuaVersionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`) })
)

// CheckOptions tunes CheckFields.
type CheckOptions struct {
	// EngineAPI is the newest engine API version the engine speaks; an
	// artifact asking for a newer one is refused. Zero: EngineAPIVersion.
	EngineAPI APIVersion
	// CompileSchema compiles one of the plugin's schemas (a decoded JSON
	// value; name is its JSON pointer in the artifact) as the engine will
	// use it, and says why it cannot (schema.CheckCompiles). Nil: the
	// schemas are only checked to be objects.
	CompileSchema func(name string, schema any) error
}

// artifactKeys are the top-level keys an artifact may have, required or not.
var artifactKeys = map[string]bool{
	"type": true, "pluginId": true, "name": true, "defaultLocale": true, "language": true, "hostTypes": true,
	"entryPoint": true, "buildNumber": true, "buildApi": true, "engineApi": true, "rootSquashEnabled": true,
	"sourceCode": true, "virtualSourceDefinition": true, "linkedSourceDefinition": true, "discoveryDefinition": true,
	"snapshotSchema": true, "snapshotParametersDefinition": true, "manifest": true,
	"externalVersion": false, "luaName": false, "extendedStartStopHooks": false, "minimumLuaVersion": false,
}

// checker collects problems while walking decoded values.
type checker struct {
	ps diag.List
}

func (c *checker) addf(ptr, format string, args ...any) {
	c.ps = append(c.ps, diag.Problem{Pointer: ptr, Severity: diag.Error, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(ptr, format string, args ...any) {
	c.ps = append(c.ps, diag.Problem{Pointer: ptr, Severity: diag.Warning, Message: fmt.Sprintf(format, args...)})
}

func decodeAny(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (c *checker) str(ptr string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.addf(ptr, "must be a string, not %s", typeName(v))
	}
	if ok && len(s) > MaxTextBytes {
		c.addf(ptr, "has %d bytes, more than the %d accepted", len(s), MaxTextBytes)
		return "", false
	}
	return s, ok
}

// MaxTextBytes bounds each text field of an artifact (its name, build
// number, entry point, a nameField, ...): the engine quotes them in lists,
// job titles and every event of a discovery, and a field may otherwise be
// up to the 64 MiB of a top-level field.
const MaxTextBytes = 256

func (c *checker) boolean(ptr string, v any) {
	if _, ok := v.(bool); !ok {
		c.addf(ptr, "must be a boolean, not %s", typeName(v))
	}
}

func (c *checker) object(ptr string, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.addf(ptr, "must be an object, not %s", typeName(v))
	}
	return m, ok
}

func (c *checker) constant(ptr string, v any, want ...string) {
	s, ok := c.str(ptr, v)
	if !ok {
		return
	}
	for _, w := range want {
		if s == w {
			return
		}
	}
	if len(want) == 1 {
		c.addf(ptr, "must be %q, not %q", want[0], s)
	} else {
		c.addf(ptr, "must be one of %s, not %q", quoteList(want), s)
	}
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// members checks that an object has exactly the given required keys (and
// maybe the optional ones); it returns the object.
func (c *checker) members(ptr string, v any, required []string, optional ...string) (map[string]any, bool) {
	m, ok := c.object(ptr, v)
	if !ok {
		return nil, false
	}
	known := map[string]bool{}
	for _, k := range required {
		known[k] = true
		if _, ok := m[k]; !ok {
			c.addf(ptr, "the required field %q is missing", k)
		}
	}
	for _, k := range optional {
		known[k] = true
	}
	var unknown []string
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		c.addf(ptr+"/"+escapePointer(k), "unknown field %q", k)
	}
	return m, true
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (c *checker) apiVersion(ptr string, v any) (APIVersion, bool) {
	m, ok := c.members(ptr, v, []string{"type", "major", "minor", "micro"})
	if !ok {
		return APIVersion{}, false
	}
	n := len(c.ps)
	c.constant(ptr+"/type", m["type"], TypeAPIVersion)
	var parts [3]int
	for i, k := range []string{"major", "minor", "micro"} {
		x, present := m[k]
		if !present {
			continue
		}
		num, isNum := x.(json.Number)
		if !isNum || strings.ContainsAny(string(num), ".eE-") {
			c.addf(ptr+"/"+k, "must be a non-negative integer, not %s", jsonText(x))
			continue
		}
		var p int
		if _, err := fmt.Sscan(string(num), &p); err != nil || p < 0 {
			c.addf(ptr+"/"+k, "must be a non-negative integer, not %s", jsonText(x))
			continue
		}
		parts[i] = p
	}
	return APIVersion{Type: TypeAPIVersion, Major: parts[0], Minor: parts[1], Micro: parts[2]}, len(c.ps) == n
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return strings.ToValidUTF8(string(b[:57]), "") + "..."
	}
	return string(b)
}

// valueText is a value for a message: its kind and its JSON text
// (`an array ["name"]`), or null.
func valueText(v any) string {
	if v == nil {
		return "null"
	}
	return typeName(v) + " " + jsonText(v)
}

// CheckEngineAPI applies the client's engine API check before an upload (docs/upload.md) to the
// raw value of engineApi: an object with type "APIVersion" and integer
// major, minor and micro. It returns the version and whether it is valid.
func CheckEngineAPI(raw json.RawMessage) (APIVersion, bool) {
	if len(raw) == 0 {
		return APIVersion{}, false
	}
	v, err := decodeAny(raw)
	if err != nil {
		return APIVersion{}, false
	}
	m, ok := v.(map[string]any)
	if !ok || m["type"] != TypeAPIVersion {
		return APIVersion{}, false
	}
	var parts [3]int
	for i, k := range []string{"major", "minor", "micro"} {
		num, ok := m[k].(json.Number)
		if !ok || strings.ContainsAny(string(num), ".eE") {
			return APIVersion{}, false
		}
		if _, err := fmt.Sscan(string(num), &parts[i]); err != nil {
			return APIVersion{}, false
		}
	}
	return APIVersion{Type: TypeAPIVersion, Major: parts[0], Minor: parts[1], Micro: parts[2]}, true
}

// CheckFields checks an uploaded artifact's fields as an engine does
// (everything but the content of sourceCode, which CheckSourceZip checks):
// required fields and their types and values (docs/build.md, the artifact), the manifest
// against the plugin type, and that every schema compiles. It returns the
// artifact (with SourceCode left empty) and every problem found; the
// artifact is nil when there is an error.
func CheckFields(f *Fields, o CheckOptions) (*Artifact, diag.List) {
	if o.EngineAPI == (APIVersion{}) {
		o.EngineAPI = EngineAPIVersion
	}
	c := &checker{}
	vals := c.decodeFields(f)
	c.scalarFields(vals, o)
	pluginType, schemas := c.definitions(vals)
	if v, ok := vals["manifest"]; ok {
		c.manifest(v, pluginType)
	}
	c.compileSchemas(schemas, o)
	if len(c.ps.Errors()) > 0 {
		return nil, c.ps
	}
	a := &Artifact{}
	for k, raw := range f.Values {
		if err := unmarshalField(a, k, raw); err != nil {
			c.addf("/"+escapePointer(k), "cannot be decoded: %v", err)
		}
	}
	if len(c.ps.Errors()) > 0 {
		return nil, c.ps
	}
	return a, c.ps
}

// decodeFields decodes the fields' values and checks which fields there
// are: each once, the required ones, no unknown one, sourceCode a string.
func (c *checker) decodeFields(f *Fields) map[string]any {
	vals := map[string]any{}
	for _, k := range f.Keys {
		raw, ok := f.Values[k]
		if !ok {
			continue // the streamed sourceCode
		}
		v, err := decodeAny(raw)
		if err != nil {
			c.addf("/"+escapePointer(k), "cannot be decoded: %v", err)
			continue
		}
		vals[k] = v
	}
	for _, k := range f.Duplicates {
		c.addf("/"+escapePointer(k), "the field appears more than once")
	}
	var required []string
	for k, req := range artifactKeys {
		if req {
			required = append(required, k)
		}
	}
	sort.Strings(required)
	for _, k := range required {
		if !f.Has(k) {
			c.addf("", "the required field %q is missing", k)
		}
	}
	var unknown []string
	for _, k := range f.Keys {
		if _, known := artifactKeys[k]; !known {
			unknown = append(unknown, k)
		}
	}
	for _, k := range unknown {
		c.addf("/"+escapePointer(k), "unknown field %q", k)
	}
	if v, ok := f.Values[SourceCodeField]; ok {
		c.addf("/sourceCode", "must be a string (the base64 ZIP of the plugin), not %s", typeNameRaw(v))
	}
	return vals
}

// scalarFields checks the fields that are not schemas nor the manifest:
// their types and values.
func (c *checker) scalarFields(vals map[string]any, o CheckOptions) {
	get := func(k string) (any, bool) { v, ok := vals[k]; return v, ok }
	if v, ok := get("type"); ok {
		c.constant("/type", v, TypePlugin)
	}
	if v, ok := get("pluginId"); ok {
		if s, ok := c.str("/pluginId", v); ok && !PluginIDPattern().MatchString(s) {
			c.addf("/pluginId", "%q is not a plugin id (a UUID such as 0f9e3c4a-7b21-4d2e-9a55-1c2d3e4f5a6b)", s)
		}
	}
	if v, ok := get("name"); ok {
		c.str("/name", v)
	}
	if v, ok := get("defaultLocale"); ok {
		if s, ok := c.str("/defaultLocale", v); ok && s == "" {
			c.addf("/defaultLocale", "must not be empty (dvp writes %q by default)", DefaultLocale)
		}
	}
	if v, ok := get("language"); ok {
		if s, ok := c.str("/language", v); ok && s != LanguageGo {
			c.addf("/language", "%q is not supported: this engine runs plugins written in Go (language %q) built by this dvp", s, LanguageGo)
		}
	}
	if v, ok := get("hostTypes"); ok {
		if arr, ok := v.([]any); !ok {
			c.addf("/hostTypes", "must be an array, not %s", typeName(v))
		} else if len(arr) != 1 {
			c.addf("/hostTypes", "must hold exactly one host type (UNIX or WINDOWS), not %d", len(arr))
		} else {
			c.constant("/hostTypes/0", arr[0], HostTypeUnix, HostTypeWindows)
		}
	}
	if v, ok := get("entryPoint"); ok {
		if s, ok := c.str("/entryPoint", v); ok && !EntryPointPattern().MatchString(s) {
			c.addf("/entryPoint", "%q does not match '^[^:]+:[^:]+$'", s)
		}
	}
	if v, ok := get("buildNumber"); ok {
		if s, ok := c.str("/buildNumber", v); ok && !validBuildNumber(s) {
			c.addf("/buildNumber", "%q is not a build number (dot-separated integers, not all zero, e.g. \"1.2.3\")", s)
		}
	}
	if v, ok := get("buildApi"); ok {
		c.apiVersion("/buildApi", v)
	}
	if v, ok := get("engineApi"); ok {
		if ver, ok := c.apiVersion("/engineApi", v); ok {
			if ver.Major != o.EngineAPI.Major || o.EngineAPI.Less(ver) {
				c.addf("/engineApi", "the artifact needs engine API %s; this engine speaks 1.0.0 to %s", ver, o.EngineAPI)
			}
		}
	}
	for _, k := range []string{"rootSquashEnabled", "extendedStartStopHooks"} {
		if v, ok := get(k); ok {
			c.boolean("/"+k, v)
		}
	}
	if v, ok := get("externalVersion"); ok {
		c.str("/externalVersion", v)
	}
	c.luaFields(vals)
}

// luaFields checks luaName and minimumLuaVersion, which go together.
func (c *checker) luaFields(vals map[string]any) {
	lua, hasLua := vals["luaName"]
	minLua, hasMinLua := vals["minimumLuaVersion"]
	if hasLua {
		if s, ok := c.str("/luaName", lua); ok && !LuaNamePattern().MatchString(s) {
			c.addf("/luaName", "%q does not match '^[a-z0-9_:-]+$'", s)
		}
	}
	if hasMinLua {
		if s, ok := c.str("/minimumLuaVersion", minLua); ok && !MinimumLuaVersionPattern().MatchString(s) {
			c.addf("/minimumLuaVersion", "%q does not match '^([0-9]+)\\.([0-9]+)$'", s)
		}
	}
	if hasLua != hasMinLua {
		c.addf("", "luaName and minimumLuaVersion must be given together")
	}
}

// definitions checks the definitions around the schemas and returns the
// plugin type (linkedSourceDefinition's) and the schemas by their JSON
// pointer, for compileSchemas.
func (c *checker) definitions(vals map[string]any) (pluginType string, schemas map[string]any) {
	schemas = map[string]any{}
	if v, ok := vals["virtualSourceDefinition"]; ok {
		if m, ok := c.members("/virtualSourceDefinition", v, []string{"type", "parameters"}); ok {
			c.constant("/virtualSourceDefinition/type", m["type"], TypeVirtualSourceDefinition)
			schemas["/virtualSourceDefinition/parameters"] = m["parameters"]
		}
	}
	if v, ok := vals["linkedSourceDefinition"]; ok {
		if m, ok := c.members("/linkedSourceDefinition", v, []string{"type", "parameters"}); ok {
			c.constant("/linkedSourceDefinition/type", m["type"], TypeLinkedDirectSourceDefinition, TypeLinkedStagedSourceDefinition)
			switch m["type"] {
			case TypeLinkedDirectSourceDefinition:
				pluginType = protocol.PluginTypeDirect
			case TypeLinkedStagedSourceDefinition:
				pluginType = protocol.PluginTypeStaged
			}
			schemas["/linkedSourceDefinition/parameters"] = m["parameters"]
		}
	}
	if v, ok := vals["discoveryDefinition"]; ok {
		c.discovery(v, schemas)
	}
	if v, ok := vals["snapshotSchema"]; ok {
		schemas["/snapshotSchema"] = v
	}
	if v, ok := vals["snapshotParametersDefinition"]; ok {
		if m, ok := c.members("/snapshotParametersDefinition", v, []string{"type", "schema"}); ok {
			c.constant("/snapshotParametersDefinition/type", m["type"], TypeSnapshotParametersDefinition)
			schemas["/snapshotParametersDefinition/schema"] = m["schema"]
		}
	}
	return pluginType, schemas
}

// compileSchemas checks that each schema (by its JSON pointer) is an
// object and compiles (CheckOptions.CompileSchema), in pointer order.
func (c *checker) compileSchemas(schemas map[string]any, o CheckOptions) {
	ptrs := make([]string, 0, len(schemas))
	for p := range schemas {
		ptrs = append(ptrs, p)
	}
	sort.Strings(ptrs)
	for _, p := range ptrs {
		if schemas[p] == nil {
			continue // a missing member, already reported
		}
		if _, ok := c.object(p, schemas[p]); !ok {
			continue
		}
		if o.CompileSchema == nil {
			continue
		}
		if err := o.CompileSchema(p, schemas[p]); err != nil {
			c.addf(p, "the schema does not compile: %s", oneLineErr(err))
		}
	}
}

func typeNameRaw(raw json.RawMessage) string {
	v, err := decodeAny(raw)
	if err != nil {
		return "invalid JSON"
	}
	return typeName(v)
}

func oneLineErr(err error) string {
	s := strings.TrimSpace(err.Error())
	return strings.Join(strings.Fields(s), " ")
}

// unmarshalField decodes one top-level field into a.
func unmarshalField(a *Artifact, key string, raw json.RawMessage) error {
	// Decoding a one-field object into the struct reuses its tags.
	var buf bytes.Buffer
	buf.WriteByte('{')
	kb, _ := json.Marshal(key)
	buf.Write(kb)
	buf.WriteByte(':')
	buf.Write(raw)
	buf.WriteByte('}')
	return json.Unmarshal(buf.Bytes(), a)
}

func (c *checker) discovery(v any, schemas map[string]any) {
	const p = "/discoveryDefinition"
	m, ok := c.members(p, v, []string{"type", "manualSourceConfigDiscovery", "repositoryIdentityFields", "repositoryNameField",
		"repositorySchema", "sourceConfigIdentityFields", "sourceConfigNameField", "sourceConfigSchema"})
	if !ok {
		return
	}
	c.constant(p+"/type", m["type"], TypeDiscoveryDefinition)
	if x, ok := m["manualSourceConfigDiscovery"]; ok {
		c.boolean(p+"/manualSourceConfigDiscovery", x)
	}
	for _, kind := range []string{"repository", "sourceConfig"} {
		schema, hasSchema := m[kind+"Schema"]
		if hasSchema {
			schemas[p+"/"+kind+"Schema"] = schema
		}
		props := map[string]any{}
		if sm, ok := schema.(map[string]any); ok {
			if pm, ok := sm["properties"].(map[string]any); ok {
				props = pm
			}
		}
		def := kind + "Definition"
		if x, ok := m[kind+"IdentityFields"]; ok {
			ptr := p + "/" + kind + "IdentityFields"
			arr, ok := x.([]any)
			switch {
			case !ok:
				c.addf(ptr, "must be a list of property names (strings), not %s: the engine cannot identify discovered objects by it; "+
					"dvp copies the identityFields of %s in schema.json into the artifact as they are, so write them there as a list of strings", valueText(x), def)
			case len(arr) == 0:
				c.addf(ptr, "must name at least one property of %sSchema", kind)
			default:
				seen := map[string]bool{}
				for i, it := range arr {
					ip := fmt.Sprintf("%s/%d", ptr, i)
					if _, isStr := it.(string); !isStr {
						c.addf(ip, "must be a string (a property name), not %s: the engine cannot identify discovered objects by it; "+
							"dvp copies the identityFields of %s in schema.json into the artifact as they are, so write them there as a list of strings", valueText(it), def)
						continue
					}
					s, ok := c.str(ip, it)
					if !ok {
						continue
					}
					if seen[s] {
						c.addf(ip, "%q is listed twice", s)
					}
					seen[s] = true
					if _, ok := props[s]; !ok && hasSchema {
						c.addf(ip, "%q is not a property of %sSchema", s, kind)
					}
				}
			}
		}
		if x, ok := m[kind+"NameField"]; ok {
			ptr := p + "/" + kind + "NameField"
			if _, isStr := x.(string); !isStr {
				c.addf(ptr, "must be a string (a property name), not %s: the engine cannot name discovered objects by it; "+
					"dvp copies the nameField of %s in schema.json into the artifact as it is, so write it there as a string", valueText(x), def)
			} else if s, ok := c.str(ptr, x); ok && hasSchema {
				if _, ok := props[s]; !ok {
					c.addf(ptr, "%q is not a property of %sSchema", s, kind)
				}
			}
		}
	}
}

func (c *checker) manifest(v any, pluginType string) {
	const p = "/manifest"
	m, ok := c.members(p, v, append(append([]string{"type"}, ManifestFlags...), "migrationIdList"))
	if !ok {
		return
	}
	c.constant(p+"/type", m["type"], TypeManifest)
	for _, k := range ManifestFlags {
		if x, ok := m[k]; ok {
			c.boolean(p+"/"+k, x)
		}
	}
	if pluginType == protocol.PluginTypeDirect {
		for _, k := range StagedOnlyFlags {
			if m[k] == true {
				c.addf(p+"/"+k, "is true, but a DIRECT plugin cannot have this operation (only STAGED plugins do); remove it or make the plugin STAGED")
			}
		}
	}
	required := []struct{ flag, op string }{
		{"hasRepositoryDiscovery", "discovery.repository"},
		{"hasSourceConfigDiscovery", "discovery.source_config"},
		{"hasLinkedPostSnapshot", "linked.post_snapshot"},
		{"hasVirtualConfigure", "virtual.configure"},
		{"hasVirtualReconfigure", "virtual.reconfigure"},
		{"hasVirtualPostSnapshot", "virtual.post_snapshot"},
		{"hasVirtualMountSpecification", "virtual.mount_specification"},
	}
	if pluginType == protocol.PluginTypeStaged {
		required = append(required, struct{ flag, op string }{"hasLinkedMountSpecification", "linked.mount_specification"})
	}
	for _, r := range required {
		if m[r.flag] == false {
			c.warnf(p+"/"+r.flag, "the plugin has no implementation of the required operation %s; it will fail when the engine runs it", r.op)
		}
	}
	x, ok := m["migrationIdList"]
	if !ok {
		return
	}
	arr, ok := x.([]any)
	if !ok {
		c.addf(p+"/migrationIdList", "must be an array of migration ids, not %s", typeName(x))
		return
	}
	var ids []string
	seen := map[string]int{}
	for i, it := range arr {
		ip := fmt.Sprintf("%s/migrationIdList/%d", p, i)
		s, ok := c.str(ip, it)
		if !ok {
			continue
		}
		if !protocol.DottedNumberPattern().MatchString(s) {
			c.addf(ip, "%q does not follow the migration id format '^\\d+(\\.\\d+)*$'", s)
			continue
		}
		canon := protocol.CanonicalNumber(s)
		if canon == "0" {
			c.addf(ip, "%q is not allowed: a migration id cannot be 0", s)
			continue
		}
		if canon != s {
			c.addf(ip, "%q is not in canonical form (expected %q)", s, canon)
		}
		if j, dup := seen[canon]; dup {
			c.addf(ip, "%q has the same canonical form as item %d", s, j)
			continue
		}
		seen[canon] = i
		ids = append(ids, canon)
	}
	if !sort.SliceIsSorted(ids, func(i, j int) bool { return protocol.CompareBuildNumbers(ids[i], ids[j]) < 0 }) {
		c.addf(p+"/migrationIdList", "is not sorted in numeric order")
	}
}

// CheckUpgrade applies the engine's upgrade rules (docs/engine.md, upload checks;
// docs Versioning_And_Upgrade/Compatibility.md) to an upload of next over
// the installed plugin: the build number may not decrease (equal is
// allowed), every migration id of the installed plugin must still be there,
// and the plugin type may not change.
func CheckUpgrade(installed, next *Artifact) diag.List {
	c := &checker{}
	if protocol.CompareBuildNumbers(next.BuildNumber, installed.BuildNumber) < 0 {
		c.addf("/buildNumber", "build %s is older than the installed build %s of plugin %q: the build number of an upgrade must not decrease; raise buildNumber in plugin_config.yml above %s and build again",
			next.BuildNumber, installed.BuildNumber, installed.Name, installed.BuildNumber)
	}
	have := map[string]bool{}
	for _, id := range next.Manifest.MigrationIDList {
		have[protocol.CanonicalNumber(id)] = true
	}
	for _, id := range installed.Manifest.MigrationIDList {
		if !have[protocol.CanonicalNumber(id)] {
			c.addf("/manifest/migrationIdList", "the installed build %s has the migration id %q, which this build drops: released migrations must be kept", installed.BuildNumber, id)
		}
	}
	if installed.PluginType() != next.PluginType() {
		c.addf("/linkedSourceDefinition/type", "the plugin type changes from %s to %s; an installed plugin cannot change its type (delete it first)", installed.PluginType(), next.PluginType())
	}
	return c.ps
}

// validBuildNumber reports whether s is a build number: dot-separated
// integers, not all zeros.
func validBuildNumber(s string) bool {
	_, ok := protocol.CanonicalBuildNumber(s)
	return ok
}
