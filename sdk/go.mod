// The Go plugin SDK of dvp: the packages a plugin written in Go imports. It
// uses the Go standard library only. dvp writes this module, byte for byte,
// into every plugin project (.dvp/sdk), so that the plugin builds offline
// against the SDK of the dvp that made it; dvp build replaces that copy when
// it differs. Do not edit the copy.
module github.com/dvpkit/dvp/sdk

go 1.25
