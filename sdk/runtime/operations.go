package runtime

import "github.com/dvpkit/dvp/sdk/protocol"

// Plugin types, for Plugin.Type (the operation table and the rules for
// each type are in sdk/protocol).
const (
	Direct = protocol.PluginTypeDirect
	Staged = protocol.PluginTypeStaged
)
