module example.com/fixture

go 1.25

require github.com/dvpkit/dvp/sdk v0.0.0-dvp

replace github.com/dvpkit/dvp/sdk => ../.dvp/sdk
