package build

import (
	"strings"

	"github.com/dvpkit/dvp/internal/codegen"
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// codegenOptions are the options of the code generator for a project: the
// types of schema.json, and the typed operations (the Plugin struct) of the
// plugin type when plugin_config.yml names a valid one (in -g mode an
// invalid one is only a warning: the types are generated anyway).
func codegenOptions(cfg *config.Config, sch *schema.Schema) codegen.Options {
	o := codegen.Options{Package: GeneratedDirName, SchemaFile: sch.Path}
	if t := strings.ToUpper(cfg.PluginType); t == protocol.PluginTypeDirect || t == protocol.PluginTypeStaged {
		o.PluginType = t
	}
	return o
}
