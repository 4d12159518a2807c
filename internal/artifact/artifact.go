// Package artifact is the model of the upload artifact (artifact.json;
// docs/build.md, the artifact): its types with dvp 5.0.1's field names and
// order, its deterministic encoding (Python's json.dump(indent=4) byte for
// byte, through pycompat/pyjson), streaming decoding that never holds the
// base64 sourceCode in memory, and the checks an engine runs on an uploaded
// artifact, its sourceCode ZIP included (the ZIP format itself is
// internal/zipfile's).
package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// Constant values of artifact fields.
const (
	TypePlugin                       = "Plugin"
	TypeAPIVersion                   = "APIVersion"
	TypeVirtualSourceDefinition      = "PluginVirtualSourceDefinition"
	TypeLinkedStagedSourceDefinition = "PluginLinkedStagedSourceDefinition"
	TypeLinkedDirectSourceDefinition = "PluginLinkedDirectSourceDefinition"
	TypeDiscoveryDefinition          = "PluginDiscoveryDefinition"
	TypeSnapshotParametersDefinition = "PluginSnapshotParametersDefinition"
	TypeManifest                     = "PluginManifest"
	LanguageGo                       = "GO"
	DefaultLocale                    = "en-us"
	HostTypeUnix                     = "UNIX"
	HostTypeWindows                  = "WINDOWS"
	ArtifactFileName                 = "artifact.json"
	SourceCodeField                  = "sourceCode"
	EngineAPIField                   = "engineApi"
	defaultArtifactIndent            = 4
)

// The ZIP in sourceCode (docs/build.md, the artifact) holds the plugin compiled for
// linux/amd64 under BinaryEntry, the build record under BuildRecordEntry,
// and the plugin's sources.
const (
	BinaryEntry      = "plugin"
	BuildRecordEntry = "build.json"
	BinaryTarget     = "linux/amd64"
)

// API versions dvp 5.0.1 writes into artifacts (docs/compatibility.md,
// versions).
var (
	BuildAPIVersion  = APIVersion{Type: TypeAPIVersion, Major: 1, Minor: 9, Micro: 0}
	EngineAPIVersion = APIVersion{Type: TypeAPIVersion, Major: 1, Minor: 11, Micro: 16}
)

// APIVersion is the engine's APIVersion object.
type APIVersion struct {
	Type  string `json:"type"`
	Major int    `json:"major"`
	Minor int    `json:"minor"`
	Micro int    `json:"micro"`
}

func (v APIVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro) }

// Less reports whether v is an older version than w.
func (v APIVersion) Less(w APIVersion) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Micro < w.Micro
}

// Artifact is artifact.json. The field order is dvp 5.0.1's
// (docs/compatibility.md, The artifact) and is the order of the encoded
// document.
type Artifact struct {
	Type                         string                       `json:"type"`
	PluginID                     string                       `json:"pluginId"`
	Name                         string                       `json:"name"`
	DefaultLocale                string                       `json:"defaultLocale"`
	Language                     string                       `json:"language"`
	HostTypes                    []string                     `json:"hostTypes"`
	EntryPoint                   string                       `json:"entryPoint"`
	BuildNumber                  string                       `json:"buildNumber"`
	BuildAPI                     APIVersion                   `json:"buildApi"`
	EngineAPI                    APIVersion                   `json:"engineApi"`
	RootSquashEnabled            bool                         `json:"rootSquashEnabled"`
	SourceCode                   string                       `json:"sourceCode"`
	VirtualSourceDefinition      SourceDefinition             `json:"virtualSourceDefinition"`
	LinkedSourceDefinition       SourceDefinition             `json:"linkedSourceDefinition"`
	DiscoveryDefinition          DiscoveryDefinition          `json:"discoveryDefinition"`
	SnapshotSchema               json.RawMessage              `json:"snapshotSchema"`
	SnapshotParametersDefinition SnapshotParametersDefinition `json:"snapshotParametersDefinition"`
	Manifest                     PluginManifest               `json:"manifest"`
	ExternalVersion              string                       `json:"externalVersion,omitempty"`
	LuaName                      string                       `json:"luaName,omitempty"`
	ExtendedStartStopHooks       bool                         `json:"extendedStartStopHooks"`
	MinimumLuaVersion            string                       `json:"minimumLuaVersion,omitempty"`
}

// SourceDefinition is virtualSourceDefinition or linkedSourceDefinition.
type SourceDefinition struct {
	Type       string          `json:"type"`
	Parameters json.RawMessage `json:"parameters"`
}

// DiscoveryDefinition is the discoveryDefinition field.
type DiscoveryDefinition struct {
	Type                        string          `json:"type"`
	ManualSourceConfigDiscovery bool            `json:"manualSourceConfigDiscovery"`
	RepositoryIdentityFields    []string        `json:"repositoryIdentityFields"`
	RepositoryNameField         string          `json:"repositoryNameField"`
	RepositorySchema            json.RawMessage `json:"repositorySchema"`
	SourceConfigIdentityFields  []string        `json:"sourceConfigIdentityFields"`
	SourceConfigNameField       string          `json:"sourceConfigNameField"`
	SourceConfigSchema          json.RawMessage `json:"sourceConfigSchema"`

	// AsWritten holds, by JSON name (repositoryNameField, ...), a name
	// field whose value is not a string, or identity fields that are not a
	// list of strings (SetField): schema.json's nameField and identityFields are only
	// checked to be present, and dvp copies them into the artifact as they
	// are (docs/compatibility.md, The artifact). Such a value is encoded
	// instead of the typed field, byte for byte as dvp writes it, and
	// decoding keeps it here; an engine refuses the artifact (CheckFields).
	AsWritten map[string]json.RawMessage `json:"-"`
}

// discoveryWire is DiscoveryDefinition on the wire: the name and identity
// fields as the JSON values they are.
type discoveryWire struct {
	Type                        string          `json:"type"`
	ManualSourceConfigDiscovery bool            `json:"manualSourceConfigDiscovery"`
	RepositoryIdentityFields    json.RawMessage `json:"repositoryIdentityFields"`
	RepositoryNameField         json.RawMessage `json:"repositoryNameField"`
	RepositorySchema            json.RawMessage `json:"repositorySchema"`
	SourceConfigIdentityFields  json.RawMessage `json:"sourceConfigIdentityFields"`
	SourceConfigNameField       json.RawMessage `json:"sourceConfigNameField"`
	SourceConfigSchema          json.RawMessage `json:"sourceConfigSchema"`
}

// discoveryField is a name or identity field: its JSON name, its typed
// value in a DiscoveryDefinition and its slot in a discoveryWire.
type discoveryField struct {
	key   string
	typed any
	wire  *json.RawMessage
}

func (d *DiscoveryDefinition) fields(w *discoveryWire) []discoveryField {
	return []discoveryField{
		{"repositoryIdentityFields", &d.RepositoryIdentityFields, &w.RepositoryIdentityFields},
		{"repositoryNameField", &d.RepositoryNameField, &w.RepositoryNameField},
		{"sourceConfigIdentityFields", &d.SourceConfigIdentityFields, &w.SourceConfigIdentityFields},
		{"sourceConfigNameField", &d.SourceConfigNameField, &w.SourceConfigNameField},
	}
}

// plainDiscovery is DiscoveryDefinition without its JSON methods: its
// typed fields, encoded and decoded by encoding/json alone.
type plainDiscovery DiscoveryDefinition

// MarshalJSON writes the fields in their order, a value of AsWritten
// instead of its typed field.
func (d DiscoveryDefinition) MarshalJSON() ([]byte, error) {
	if len(d.AsWritten) == 0 {
		return marshalNoEscape(plainDiscovery(d)) // the engine lists many: the short way
	}
	w := discoveryWire{Type: d.Type, ManualSourceConfigDiscovery: d.ManualSourceConfigDiscovery,
		RepositorySchema: d.RepositorySchema, SourceConfigSchema: d.SourceConfigSchema}
	for _, f := range d.fields(&w) {
		if raw, ok := d.AsWritten[f.key]; ok {
			*f.wire = raw
			continue
		}
		b, err := marshalNoEscape(f.typed)
		if err != nil {
			return nil, err
		}
		*f.wire = b
	}
	for _, raw := range []*json.RawMessage{&w.RepositorySchema, &w.SourceConfigSchema} {
		if len(*raw) == 0 {
			*raw = json.RawMessage("null")
		}
	}
	return marshalNoEscape(&w)
}

// UnmarshalJSON reads the fields (no unknown one), keeping a name field
// that is not a string, or identity fields that are not a list of
// strings, in AsWritten.
func (d *DiscoveryDefinition) UnmarshalJSON(data []byte) error {
	// The short way, for what an engine takes: the typed fields decode,
	// and no value is null (a null would decode as "" or nil).
	if !bytes.Contains(data, []byte("null")) {
		var p plainDiscovery
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if dec.Decode(&p) == nil {
			*d = DiscoveryDefinition(p)
			return nil
		}
	}
	var w discoveryWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*d = DiscoveryDefinition{Type: w.Type, ManualSourceConfigDiscovery: w.ManualSourceConfigDiscovery,
		RepositorySchema: w.RepositorySchema, SourceConfigSchema: w.SourceConfigSchema}
	for _, f := range d.fields(&w) {
		if *f.wire == nil {
			continue // absent
		}
		if err := d.SetField(f.key, *f.wire); err != nil {
			return err
		}
	}
	return nil
}

// SetField sets the name or identity field key (its JSON name, e.g.
// repositoryNameField) to the JSON value raw: the typed field when raw is
// what an engine takes there (a string for a name field, a list of strings
// for identity fields), AsWritten otherwise.
func (d *DiscoveryDefinition) SetField(key string, raw json.RawMessage) error {
	var w discoveryWire
	for _, f := range d.fields(&w) {
		if f.key != key {
			continue
		}
		if !engineTakes(key, raw) {
			if d.AsWritten == nil {
				d.AsWritten = map[string]json.RawMessage{}
			}
			d.AsWritten[key] = append(json.RawMessage(nil), raw...)
			switch t := f.typed.(type) {
			case *string:
				*t = ""
			case *[]string:
				*t = nil
			}
			return nil
		}
		delete(d.AsWritten, key)
		return json.Unmarshal(raw, f.typed)
	}
	return fmt.Errorf("artifact: %q is not a name or identity field of discoveryDefinition", key)
}

// engineTakes reports whether raw, the value of the discovery definition's
// field key, is what an engine takes there: a string for a name field, a
// list of strings for identity fields.
func engineTakes(key string, raw json.RawMessage) bool {
	v, err := decodeAny(raw)
	if err != nil {
		return false
	}
	if strings.HasSuffix(key, "NameField") {
		_, ok := v.(string)
		return ok
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range list {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SnapshotParametersDefinition is the snapshotParametersDefinition field.
type SnapshotParametersDefinition struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// PluginManifest is the artifact's manifest field, of type "PluginManifest"
// (docs/build.md, manifest checks), keys in dvp 5.0.1's order.
type PluginManifest struct {
	Type                         string   `json:"type"`
	HasRepositoryDiscovery       bool     `json:"hasRepositoryDiscovery"`
	HasSourceConfigDiscovery     bool     `json:"hasSourceConfigDiscovery"`
	HasLinkedPreSnapshot         bool     `json:"hasLinkedPreSnapshot"`
	HasLinkedPostSnapshot        bool     `json:"hasLinkedPostSnapshot"`
	HasLinkedStartStaging        bool     `json:"hasLinkedStartStaging"`
	HasLinkedStopStaging         bool     `json:"hasLinkedStopStaging"`
	HasLinkedStatus              bool     `json:"hasLinkedStatus"`
	HasLinkedWorker              bool     `json:"hasLinkedWorker"`
	HasLinkedMountSpecification  bool     `json:"hasLinkedMountSpecification"`
	HasLinkedSourceSize          bool     `json:"hasLinkedSourceSize"`
	HasVirtualConfigure          bool     `json:"hasVirtualConfigure"`
	HasVirtualUnconfigure        bool     `json:"hasVirtualUnconfigure"`
	HasVirtualReconfigure        bool     `json:"hasVirtualReconfigure"`
	HasVirtualCleanup            bool     `json:"hasVirtualCleanup"`
	HasVirtualStart              bool     `json:"hasVirtualStart"`
	HasVirtualStop               bool     `json:"hasVirtualStop"`
	HasVirtualPreSnapshot        bool     `json:"hasVirtualPreSnapshot"`
	HasVirtualPostSnapshot       bool     `json:"hasVirtualPostSnapshot"`
	HasVirtualMountSpecification bool     `json:"hasVirtualMountSpecification"`
	HasVirtualStatus             bool     `json:"hasVirtualStatus"`
	HasInitialize                bool     `json:"hasInitialize"`
	HasVirtualSourceSize         bool     `json:"hasVirtualSourceSize"`
	MigrationIDList              []string `json:"migrationIdList"`
}

// ManifestFlags lists the manifest's boolean keys in dvp 5.0.1's order.
var ManifestFlags = []string{
	"hasRepositoryDiscovery", "hasSourceConfigDiscovery",
	"hasLinkedPreSnapshot", "hasLinkedPostSnapshot", "hasLinkedStartStaging", "hasLinkedStopStaging",
	"hasLinkedStatus", "hasLinkedWorker", "hasLinkedMountSpecification", "hasLinkedSourceSize",
	"hasVirtualConfigure", "hasVirtualUnconfigure", "hasVirtualReconfigure", "hasVirtualCleanup",
	"hasVirtualStart", "hasVirtualStop", "hasVirtualPreSnapshot", "hasVirtualPostSnapshot",
	"hasVirtualMountSpecification", "hasVirtualStatus", "hasInitialize", "hasVirtualSourceSize",
}

// StagedOnlyFlags are the manifest flags of operations only STAGED plugins
// have (docs/build.md, manifest checks): a DIRECT plugin must have them all false.
var StagedOnlyFlags = []string{
	"hasLinkedStartStaging", "hasLinkedStopStaging", "hasLinkedStatus", "hasLinkedWorker", "hasLinkedMountSpecification",
}

// PluginType tells DIRECT from STAGED by linkedSourceDefinition.type.
func (a *Artifact) PluginType() string {
	if a.LinkedSourceDefinition.Type == TypeLinkedStagedSourceDefinition {
		return protocol.PluginTypeStaged
	}
	return protocol.PluginTypeDirect
}

// BuildRecord is build.json in the sourceCode ZIP: how the binary was built.
type BuildRecord struct {
	GoVersion    string `json:"goVersion"`
	Target       string `json:"target"` // always linux/amd64
	SDKVersion   string `json:"sdkVersion"`
	DvpVersion   string `json:"dvpVersion,omitempty"`
	BinarySHA256 string `json:"binarySha256"` // hex sha256 of the BinaryEntry
}

// Encode writes a as dvp's build writes artifact.json: Python's
// json.dump(indent=4) of the fields in dvp 5.0.1's order, with
// non-ASCII characters escaped. The schemas are written with their own key
// order kept. Nil slices are written as []. sourceCode is copied as it is
// (it is base64: nothing to escape), without intermediate copies.
func Encode(w io.Writer, a *Artifact) error {
	head, source, tail, err := encodeParts(a)
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := io.WriteString(w, source); err != nil {
		return err
	}
	_, err = w.Write(tail)
	return err
}

// Marshal returns Encode's bytes.
func Marshal(a *Artifact) ([]byte, error) {
	head, source, tail, err := encodeParts(a)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(source)+len(tail))
	return append(append(append(out, head...), source...), tail...), nil
}

// sourceSlot is where sourceCode goes in the encoding of an artifact whose
// sourceCode is empty: a top-level key is the only one indented by 4.
const sourceSlot = "\n    \"sourceCode\": \"\""

// encodeParts encodes a with an empty sourceCode and splits the result
// where the sourceCode string goes.
func encodeParts(a *Artifact) (head []byte, source string, tail []byte, err error) {
	c := *a
	c.SourceCode = ""
	if c.HostTypes == nil {
		c.HostTypes = []string{}
	}
	if c.Manifest.MigrationIDList == nil {
		c.Manifest.MigrationIDList = []string{}
	}
	if c.DiscoveryDefinition.RepositoryIdentityFields == nil {
		c.DiscoveryDefinition.RepositoryIdentityFields = []string{}
	}
	if c.DiscoveryDefinition.SourceConfigIdentityFields == nil {
		c.DiscoveryDefinition.SourceConfigIdentityFields = []string{}
	}
	for _, raw := range []*json.RawMessage{
		&c.SnapshotSchema, &c.VirtualSourceDefinition.Parameters, &c.LinkedSourceDefinition.Parameters,
		&c.DiscoveryDefinition.RepositorySchema, &c.DiscoveryDefinition.SourceConfigSchema, &c.SnapshotParametersDefinition.Schema,
	} {
		if len(*raw) == 0 {
			*raw = json.RawMessage("null")
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, "", nil, err
	}
	doc, err := pyjson.Format(buf.Bytes(), defaultArtifactIndent)
	if err != nil {
		return nil, "", nil, err
	}
	i := bytes.Index(doc, []byte(sourceSlot))
	if i < 0 {
		return nil, "", nil, fmt.Errorf("artifact: no sourceCode in the encoding")
	}
	cut := i + len(sourceSlot) - 1 // just before the closing quote
	head, tail = doc[:cut], doc[cut:]
	source = a.SourceCode
	if !plainASCII(source) {
		q := pyjson.Quote(source)
		source = q[1 : len(q)-1]
	}
	return head, source, tail, nil
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// WriteFile writes a to path atomically (fsutil.WriteFile): on failure
// path is unchanged.
func WriteFile(path string, a *Artifact) error {
	b, err := Marshal(a)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, b, 0o644)
}

// Decode reads an artifact.json whole (sourceCode included), refusing
// unknown fields. It is for trusted artifacts (tests, tools); the engine
// checks uploads with Scan, CheckFields and CheckSourceZip instead, which
// never hold sourceCode and report every problem.
func Decode(r io.Reader) (*Artifact, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// encoding/json replaces invalid UTF-8 and matches keys without regard
	// to case; Python's json (and so an engine) does neither.
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("artifact: the file is not valid UTF-8")
	}
	if err := checkTopLevelKeys(data); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	a := &Artifact{}
	if err := d.Decode(a); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("artifact: extra data after the JSON object")
	}
	return a, nil
}

// checkTopLevelKeys refuses top-level keys that are not spelled exactly as
// an Artifact field's JSON name.
func checkTopLevelKeys(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	known := map[string]bool{}
	t := reflect.TypeOf(Artifact{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		known[name] = true
	}
	for k := range top {
		if !known[k] {
			return fmt.Errorf("artifact: unknown field %q", k)
		}
	}
	return nil
}
