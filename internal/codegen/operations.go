package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/dvpkit/dvp/sdk/protocol"
)

// The typed operations of a plugin (operations.go): a Plugin struct whose
// fields are the operations of the plugin's type as typed functions over the
// generated types and the SDK's platform classes, and the methods that adapt
// it to sdk/runtime. Because the operations are struct fields, the compiler
// rejects a wrong signature, a field set twice in a literal (a duplicate
// registration) and an operation the plugin type does not have (a DIRECT
// plugin's LinkedOperations has no staged-only fields).

const (
	sdkPath     = "github.com/dvpkit/dvp/sdk"
	runtimePath = "github.com/dvpkit/dvp/sdk/runtime"
	contextPath = "context"
	fmtPath     = "fmt"
	bytesPath   = "bytes"
	reflectPath = "reflect"
	goRTPath    = "runtime"
)

// OperationsFile is the name of the file emitted for Options.PluginType.
const OperationsFile = "operations.go"

// opGroup is one field of Plugin: the operations of one family.
type opGroup struct {
	prefix string // "discovery", "linked", "virtual"
	field  string // Plugin's field
	typ    string // its struct type
	doc    string
}

var opGroups = []opGroup{
	{"discovery", "Discovery", "DiscoveryOperations", "DiscoveryOperations are the discovery operations (environment discovery and refresh)."},
	{"linked", "Linked", "LinkedOperations", "LinkedOperations are the operations of linked sources (dSources)."},
	{"virtual", "Virtual", "VirtualOperations", "VirtualOperations are the operations of virtual sources (VDBs)."},
}

// opDocs says what each operation does, for the doc comment of its field.
var opDocs = map[string]string{
	"discovery.repository":        "returns the repositories found on an environment.",
	"discovery.source_config":     "returns the source configs of a repository found on an environment.",
	"linked.pre_snapshot":         "runs before the engine snapshots the dSource (sync and resync): a STAGED plugin copies the data onto the staged mount here; snapshotParameters is nil for a policy-driven sync.",
	"linked.post_snapshot":        "runs after the engine snapshots the dSource and returns the snapshot's data; snapshotParameters is nil for a policy-driven sync.",
	"linked.start_staging":        "runs when the dSource is enabled, after the staged mount is in place.",
	"linked.stop_staging":         "runs when the dSource is disabled or deleted.",
	"linked.status":               "returns whether the staging dataset is running (the engine assumes sdk.StatusActive when it is not implemented).",
	"linked.worker":               "runs periodically while the dSource is enabled.",
	"linked.mount_specification":  "returns where the engine mounts the staging storage (exactly one mount on the staging environment, or several subset mounts).",
	"linked.source_size":          "returns the size of the source dataset in bytes.",
	"virtual.configure":           "configures a newly provisioned or refreshed VDB on its mounted storage and returns its source config.",
	"virtual.unconfigure":         "runs before the VDB's storage is unmounted (refresh, rollback, disable, delete).",
	"virtual.reconfigure":         "brings the VDB back after a rollback or an enable and returns its source config.",
	"virtual.cleanup":             "runs when the VDB is deleted, after virtual.unconfigure.",
	"virtual.start":               "starts the VDB.",
	"virtual.stop":                "stops the VDB.",
	"virtual.pre_snapshot":        "runs before the engine snapshots the VDB.",
	"virtual.post_snapshot":       "runs after the engine snapshots the VDB and returns the snapshot's data.",
	"virtual.status":              "returns whether the VDB is running (the engine assumes sdk.StatusActive when it is not implemented).",
	"virtual.initialize":          "initializes an empty VDB on its mounted storage and returns its source config.",
	"virtual.mount_specification": "returns where the engine mounts the VDB's storage.",
	"virtual.source_size":         "returns the size of the VDB's dataset in bytes.",
}

// argument is one input field of an operation.
type argument struct {
	json  string // the input object's field
	param string // the Go parameter
	typ   func() *jen.Statement
}

func defType(name string) func() *jen.Statement {
	return func() *jen.Statement { return jen.Id(name) }
}

var arguments = map[string]argument{
	"source_connection": {"source_connection", "sourceConnection", func() *jen.Statement { return jen.Qual(sdkPath, "RemoteConnection") }},
	"repository":        {"repository", "repository", defType("RepositoryDefinition")},
	"source_config":     {"source_config", "sourceConfig", defType("SourceConfigDefinition")},
	"snapshot":          {"snapshot", "snapshot", defType("SnapshotDefinition")},
	"snapshot_parameters": {"snapshot_parameters", "snapshotParameters", func() *jen.Statement {
		return jen.Op("*").Id("SnapshotParametersDefinition")
	}},
	"direct_source": {"direct_source", "directSource", func() *jen.Statement {
		return jen.Qual(sdkPath, "DirectSource").Types(jen.Id("LinkedSourceDefinition"))
	}},
	"staged_source": {"staged_source", "stagedSource", func() *jen.Statement {
		return jen.Qual(sdkPath, "StagedSource").Types(jen.Id("LinkedSourceDefinition"))
	}},
	"virtual_source": {"virtual_source", "virtualSource", func() *jen.Statement {
		return jen.Qual(sdkPath, "VirtualSource").Types(jen.Id("VirtualSourceDefinition"))
	}},
}

// objectResults are the generated types returned by OutputObject and
// OutputList operations.
var objectResults = map[string]string{
	"discovery.repository":    "RepositoryDefinition",
	"discovery.source_config": "SourceConfigDefinition",
	"linked.post_snapshot":    "SnapshotDefinition",
	"virtual.configure":       "SourceConfigDefinition",
	"virtual.reconfigure":     "SourceConfigDefinition",
	"virtual.post_snapshot":   "SnapshotDefinition",
	"virtual.initialize":      "SourceConfigDefinition",
}

// resultType is the Go result type of an operation (nil: error only).
func resultType(s protocol.OperationSpec) (*jen.Statement, error) {
	switch s.Output {
	case protocol.OutputNone:
		return nil, nil
	case protocol.OutputList:
		return jen.Index().Id(objectResults[s.Name]), nil
	case protocol.OutputObject:
		return jen.Id(objectResults[s.Name]), nil
	case protocol.OutputStatus:
		return jen.Qual(sdkPath, "Status"), nil
	case protocol.OutputSize:
		return jen.Int64(), nil
	case protocol.OutputMountSpecification:
		return jen.Qual(sdkPath, "MountSpecification"), nil
	}
	return nil, fmt.Errorf("codegen: unknown output kind of %s", s.Name)
}

// definitionKey is the schema.json key of a definition's generated type:
// "sourceConfigDefinition" for SourceConfigDefinition.
func definitionKey(typeName string) string {
	if typeName == "" {
		return ""
	}
	return strings.ToLower(typeName[:1]) + typeName[1:]
}

// opName turns "pre_snapshot" into "PreSnapshot".
func opName(snake string) string {
	var b strings.Builder
	for _, w := range strings.Split(snake, "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// opFunc is the type of an operation's field.
func opFunc(s protocol.OperationSpec, pluginType string) *jen.Statement {
	params := []jen.Code{jen.Id("ctx").Qual(contextPath, "Context")}
	for _, a := range s.Args(pluginType) {
		arg := arguments[a]
		params = append(params, jen.Id(arg.param).Add(arg.typ()))
	}
	res, _ := resultType(s)
	if res == nil {
		return jen.Func().Params(params...).Error()
	}
	return jen.Func().Params(params...).Params(res, jen.Error())
}

// emitOperations writes operations.go for opts.PluginType; nothing when it
// is empty.
func emitOperations(m *model, opts Options) map[string]*jen.File {
	if opts.PluginType == "" {
		return nil
	}
	pt := opts.PluginType
	f := newFile(opts)
	f.ImportName(sdkPath, "sdk")
	f.ImportName(runtimePath, "runtime")
	f.ImportAlias(goRTPath, "goruntime")

	f.Comment("PluginType is the pluginType of plugin_config.yml this package was generated for.")
	f.Const().Id("PluginType").Op("=").Lit(pt)
	f.Line()

	f.Comment(docComment(fmt.Sprintf(`Plugin is the plugin: its operations and its upgrade migrations, typed for a
%s plugin and the types of schema.json. Set the operations the plugin
implements; a nil field is an operation it does not implement (dvp build
warns about required ones). The entry point of plugin_config.yml names a
package-level variable of this type, and main calls its Main method:

	var plugin = generated.Plugin{
		Discovery: generated.DiscoveryOperations{Repository: repositoryDiscovery, ...},
		...
	}

	func main() { plugin.Main() }`, pt)))
	f.Type().Id("Plugin").StructFunc(func(g *jen.Group) {
		for _, grp := range opGroups {
			g.Id(grp.field).Id(grp.typ)
		}
		g.Comment("Upgrade are the data migrations, in any order (see Migration).")
		g.Id("Upgrade").Index().Id("Migration")
	})

	specs := protocol.Operations()
	for _, grp := range opGroups {
		f.Line()
		f.Comment(grp.doc)
		if grp.prefix == "linked" {
			f.Comment(fmt.Sprintf("The fields are those of a %s plugin.", pt))
		}
		f.Type().Id(grp.typ).StructFunc(func(g *jen.Group) {
			for _, s := range specs {
				if !strings.HasPrefix(s.Name, grp.prefix+".") || !s.Supports(pt) {
					continue
				}
				name := opName(strings.TrimPrefix(s.Name, grp.prefix+"."))
				doc := fmt.Sprintf("%s is %s(): it %s", name, s.Name, opDocs[s.Name])
				if s.Required(pt) {
					doc += " Required."
				}
				g.Comment(doc)
				g.Id(name).Add(opFunc(s, pt))
			}
		})
	}

	emitMigrationTypes(f)
	emitRuntime(f, pt, specs)
	return map[string]*jen.File{OperationsFile: f}
}

func emitMigrationTypes(f *jen.File) {
	f.Line()
	f.Comment("MigrationKind is the kind of plugin-defined object a migration upgrades.")
	f.Type().Id("MigrationKind").String()
	f.Line()
	f.Comment("The kinds of migrations (Python's @plugin.upgrade.repository(), ...: see \"Data migrations\" in dvp help sdk).")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, k := range [][2]string{
			{"RepositoryMigration", "repository"},
			{"SourceConfigMigration", "source_config"},
			{"LinkedSourceMigration", "linked_source"},
			{"VirtualSourceMigration", "virtual_source"},
			{"SnapshotMigration", "snapshot"},
		} {
			g.Id(k[0]).Id("MigrationKind").Op("=").Lit(k[1])
		}
	})
	f.Line()
	f.Comment(docComment(`Migration is one upgrade migration of the objects of one kind. ID is a
platform migration id ("2019.04.01": digits separated by dots, not all zero,
unique across all kinds in canonical form) or, with Type sdk.LuaMigration, the
"major.minor" version of the Lua plugin the objects come from. Func gets an
object of the previous schema, with the schema's (camelCase) property names,
and returns it closer to the current schema; numbers arrive as json.Number,
so that no digit is lost. Migrations may only use the platform libraries
libs.UpgradePassword and logging. Name names the function in messages; when
empty it is the Go name of Func.`))
	f.Type().Id("Migration").Struct(
		jen.Id("Kind").Id("MigrationKind"),
		jen.Id("ID").String(),
		jen.Comment("Type is sdk.PlatformMigration (the zero value) or sdk.LuaMigration."),
		jen.Id("Type").Qual(sdkPath, "MigrationType"),
		jen.Id("Func").Func().Params(jen.Id("ctx").Qual(contextPath, "Context"), jen.Id("old").Map(jen.String()).Any()).
			Params(jen.Map(jen.String()).Any(), jen.Error()),
		jen.Id("Name").String(),
	)
}

func emitRuntime(f *jen.File, pt string, specs []protocol.OperationSpec) {
	f.Line()
	f.Comment("Main runs the plugin binary (manifest or serve mode, as the engine or dvp asks) and exits.")
	f.Func().Params(jen.Id("p").Id("Plugin")).Id("Main").Params().Block(
		jen.Qual(runtimePath, "Main").Call(jen.Id("p").Dot("Runtime").Call()),
	)
	f.Line()
	f.Comment(docComment(`Runtime adapts the plugin to the SDK runtime: each non-nil operation becomes a
handler that decodes its input into the generated types (which check the
schema's types, required and unknown properties), calls the function, and
checks the plugin-defined objects it returns with their Validate method.`))
	f.Func().Params(jen.Id("p").Id("Plugin")).Id("Runtime").Params().Op("*").Qual(runtimePath, "Plugin").BlockFunc(func(g *jen.Group) {
		g.Id("ops").Op(":=").Map(jen.String()).Qual(runtimePath, "Handler").Values()
		for _, grp := range opGroups {
			for _, s := range specs {
				if !strings.HasPrefix(s.Name, grp.prefix+".") || !s.Supports(pt) {
					continue
				}
				name := opName(strings.TrimPrefix(s.Name, grp.prefix+"."))
				g.If(jen.Id("f").Op(":=").Id("p").Dot(grp.field).Dot(name), jen.Id("f").Op("!=").Nil()).Block(
					jen.Id("ops").Index(jen.Lit(s.Name)).Op("=").Add(adapter(s, pt)),
				)
			}
		}
		g.Id("migrations").Op(":=").Make(jen.Index().Qual(runtimePath, "Migration"), jen.Lit(0), jen.Len(jen.Id("p").Dot("Upgrade")))
		g.For(jen.List(jen.Id("_"), jen.Id("m")).Op(":=").Range().Id("p").Dot("Upgrade")).Block(
			jen.Id("migrations").Op("=").Append(jen.Id("migrations"), jen.Id("opMigration").Call(jen.Id("m"))),
		)
		g.Return(jen.Op("&").Qual(runtimePath, "Plugin").Values(jen.Dict{
			jen.Id("Type"):       jen.Id("PluginType"),
			jen.Id("Operations"): jen.Id("ops"),
			jen.Id("Migrations"): jen.Id("migrations"),
		}))
	})

	// opInvalid: the error of a returned object that fails Validate.
	f.Line()
	f.Comment("opInvalid reports a returned plugin-defined object that does not satisfy its definition")
	f.Comment("of the schema (def): err's JSON pointers are relative to the object.")
	f.Func().Id("opInvalid").Params(jen.List(jen.Id("op"), jen.Id("what"), jen.Id("def")).String(), jen.Id("err").Error()).Error().Block(
		jen.Return(jen.Qual(fmtPath, "Errorf").Call(
			jen.Lit("The returned object for the %s() operation %sdoes not satisfy %s of the plugin's schema: %w"),
			jen.Id("op"), jen.Id("what"), jen.Id("def"), jen.Id("err"))),
	)

	// opMigration: Migration -> runtime.Migration.
	f.Line()
	f.Comment("opMigration adapts a migration to the runtime: objects are decoded with json.Number numbers.")
	f.Func().Id("opMigration").Params(jen.Id("m").Id("Migration")).Qual(runtimePath, "Migration").Block(
		jen.Id("rm").Op(":=").Qual(runtimePath, "Migration").Values(jen.Dict{
			jen.Id("Kind"): jen.String().Call(jen.Id("m").Dot("Kind")),
			jen.Id("ID"):   jen.Id("m").Dot("ID"),
			jen.Id("Type"): jen.Id("m").Dot("Type"),
			jen.Id("Name"): jen.Id("m").Dot("Name"),
		}),
		jen.If(jen.Id("m").Dot("Func").Op("==").Nil()).Block(jen.Return(jen.Id("rm"))),
		jen.If(jen.Id("rm").Dot("Name").Op("==").Lit("")).Block(
			jen.If(jen.Id("fn").Op(":=").Qual(goRTPath, "FuncForPC").Call(
				jen.Qual(reflectPath, "ValueOf").Call(jen.Id("m").Dot("Func")).Dot("Pointer").Call()),
				jen.Id("fn").Op("!=").Nil()).Block(
				jen.Id("rm").Dot("Name").Op("=").Id("fn").Dot("Name").Call(),
			),
		),
		jen.Id("f").Op(":=").Id("m").Dot("Func"),
		jen.Id("rm").Dot("Func").Op("=").Func().Params(jen.Id("ctx").Qual(contextPath, "Context"), jen.Id("old").Qual(jsonPath, "RawMessage")).
			Params(jen.Qual(jsonPath, "RawMessage"), jen.Error()).Block(
			jen.Id("d").Op(":=").Qual(jsonPath, "NewDecoder").Call(jen.Qual(bytesPath, "NewReader").Call(jen.Id("old"))),
			jen.Id("d").Dot("UseNumber").Call(),
			jen.Var().Id("obj").Map(jen.String()).Any(),
			jen.If(jen.Id("err").Op(":=").Id("d").Dot("Decode").Call(jen.Op("&").Id("obj")), jen.Id("err").Op("!=").Nil()).Block(
				jen.Return(jen.Nil(), jen.Op("&").Qual(runtimePath, "InputError").Values(jen.Dict{
					jen.Id("Message"): jen.Lit("the object to migrate cannot be decoded: ").Op("+").Id("err").Dot("Error").Call(),
				})),
			),
			jen.List(jen.Id("out"), jen.Id("err")).Op(":=").Id("f").Call(jen.Id("ctx"), jen.Id("obj")),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
			jen.Return(jen.Qual(jsonPath, "Marshal").Call(jen.Id("out"))),
		),
		jen.Return(jen.Id("rm")),
	)
}

// adapter is the runtime.Handler of one operation.
func adapter(s protocol.OperationSpec, pt string) *jen.Statement {
	args := s.Args(pt)
	fields := make([]jen.Code, 0, len(args))
	call := []jen.Code{jen.Id("ctx")}
	for _, a := range args {
		arg := arguments[a]
		fname := opName(a)
		fields = append(fields, jen.Id(fname).Add(arg.typ()).Tag(map[string]string{"json": arg.json}))
		call = append(call, jen.Id("in").Dot(fname))
	}
	res, _ := resultType(s)
	out := jen.Any()
	if res != nil {
		out = res.Clone()
	}
	var body []jen.Code
	switch s.Output {
	case protocol.OutputNone:
		body = []jen.Code{jen.Return(jen.Nil(), jen.Id("f").Call(call...))}
	case protocol.OutputList:
		body = []jen.Code{
			jen.List(jen.Id("out"), jen.Id("err")).Op(":=").Id("f").Call(call...),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
			jen.For(jen.List(jen.Id("i"), jen.Id("o")).Op(":=").Range().Id("out")).Block(
				jen.If(jen.Id("err").Op(":=").Id("o").Dot("Validate").Call(), jen.Id("err").Op("!=").Nil()).Block(
					jen.Return(jen.Nil(), jen.Id("opInvalid").Call(jen.Lit(s.Name),
						jen.Qual(fmtPath, "Sprintf").Call(jen.Lit("(item %d) "), jen.Id("i")), jen.Lit(definitionKey(objectResults[s.Name])), jen.Id("err"))),
				),
			),
			jen.Return(jen.Id("out"), jen.Nil()),
		}
	case protocol.OutputObject:
		body = []jen.Code{
			jen.List(jen.Id("out"), jen.Id("err")).Op(":=").Id("f").Call(call...),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Id("out"), jen.Id("err"))),
			jen.If(jen.Id("err").Op(":=").Id("out").Dot("Validate").Call(), jen.Id("err").Op("!=").Nil()).Block(
				jen.Return(jen.Id("out"), jen.Id("opInvalid").Call(jen.Lit(s.Name), jen.Lit(""), jen.Lit(definitionKey(objectResults[s.Name])), jen.Id("err"))),
			),
			jen.Return(jen.Id("out"), jen.Nil()),
		}
	default: // status, size, mount specification: checked by the runtime
		body = []jen.Code{jen.Return(jen.Id("f").Call(call...))}
	}
	return jen.Qual(runtimePath, "Adapt").Call(
		jen.Func().Params(jen.Id("ctx").Qual(contextPath, "Context"), jen.Id("in").Struct(fields...)).
			Params(out, jen.Error()).Block(body...),
	)
}

// docComment renders a multi-line doc comment as // lines.
func docComment(text string) string { return comment(strings.Split(text, "\n")) }
