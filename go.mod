module github.com/dvpkit/dvp

go 1.25

require (
	github.com/dave/jennifer v1.7.1
	github.com/dvpkit/dvp/sdk v0.0.0-dvp
	github.com/go-resty/resty/v2 v2.17.2
	github.com/google/uuid v1.6.0
	github.com/robfig/cron/v3 v3.0.1
	github.com/rogpeppe/go-internal v1.16.0
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.10
	github.com/spf13/viper v1.21.0
	golang.org/x/crypto v0.43.0
	golang.org/x/sys v0.37.0
	golang.org/x/term v0.36.0
	gopkg.in/ini.v1 v1.67.3
	gopkg.in/yaml.v3 v3.0.1
	modernc.org/sqlite v1.46.1
)

require (
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/go-viper/mapstructure/v2 v2.4.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/pelletier/go-toml/v2 v2.2.4 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/sagikazarmark/locafero v0.11.0 // indirect
	github.com/sourcegraph/conc v0.3.1-0.20240121214520-5f936abd7ae8 // indirect
	github.com/spf13/afero v1.15.0 // indirect
	github.com/spf13/cast v1.10.0 // indirect
	github.com/subosito/gotenv v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/exp v0.0.0-20251023183803-a4bb9ffd2546 // indirect
	golang.org/x/net v0.46.0 // indirect
	golang.org/x/text v0.30.0 // indirect
	golang.org/x/tools v0.38.0 // indirect
	modernc.org/libc v1.67.6 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.11.0 // indirect
)

// The plugin SDK is a module of its own (sdk/go.mod), versioned with dvp:
// dvp builds against the copy in this repository.
replace github.com/dvpkit/dvp/sdk => ./sdk

// A copy of jsonschema v5.3.1 whose meta-schemas compile on first use
// instead of in init; third_party/jsonschema/PATCH.md says what changed.
replace github.com/santhosh-tekuri/jsonschema/v5 => ./third_party/jsonschema

// viper's YAML module, the same code as gopkg.in/yaml.v3 under another path:
// forwarded to gopkg.in/yaml.v3 so that dvp links one YAML implementation
// (third_party/go-yaml-shim/PATCH.md).
replace go.yaml.in/yaml/v3 => ./third_party/go-yaml-shim
