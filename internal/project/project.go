// Package project loads a plugin project from disk: its plugin_config.yml
// and the schema.json it names, validated together. Every command that
// works on a project (validate, build, download-logs) starts here.
package project

import (
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/schema"
)

// Project is a loaded project. Config and Schema are nil when they could
// not be read at all; Problems lists everything wrong with both files.
type Project struct {
	Config   *config.Config
	Schema   *schema.Schema
	Problems diag.List
	// ConfigData and SchemaData are the bytes Config and Schema were
	// parsed from (nil for a file that was not read).
	ConfigData, SchemaData []byte
	// Checked: Problems include the checks of both files against their
	// JSON Schemas (Load); false after LoadUnchecked.
	Checked bool

	configPath, schemaPath string
}

// Load reads and validates the plugin config at configPath and the schema
// file it names. It checks the two files only; checks of the Go sources
// belong to the build.
func Load(configPath string) *Project { return load(configPath, true) }

// LoadUnchecked is Load without the checks of the two files against their
// JSON Schemas (config.ParseUnchecked, schema.ParseUnchecked): the same
// Config and Schema, and only the problems of the other rules. For a
// caller that knows the problems of these very bytes (dvp build, from its
// record of the last build), or else checks them with Check.
func LoadUnchecked(configPath string) *Project { return load(configPath, false) }

// Check is Load of the bytes p was loaded from: p itself when it was
// checked already.
func (p *Project) Check() *Project {
	if p.Checked || p.ConfigData == nil {
		return p // a config that could not be read has nothing to check
	}
	c := &Project{Checked: true, configPath: p.configPath, ConfigData: p.ConfigData}
	c.parse(p.schemaPath, p.SchemaData)
	return c
}

func load(configPath string, check bool) *Project {
	p := &Project{Checked: check, configPath: configPath}
	p.ConfigData, p.Problems = config.ReadFile(configPath)
	if p.ConfigData != nil {
		p.parse("", nil)
	}
	return p
}

// parse parses ConfigData (checked or not, as p.Checked says), then the
// schema file it names: schemaData when that is read from the same path,
// else read now.
func (p *Project) parse(schemaPath string, schemaData []byte) {
	parseConfig, parseSchema := config.ParseUnchecked, schema.ParseUnchecked
	if p.Checked {
		parseConfig, parseSchema = config.Parse, schema.Parse
	}
	cfg, problems := parseConfig(p.configPath, p.ConfigData)
	p.Config = cfg
	p.Problems = append(p.Problems, problems...)
	if cfg == nil || cfg.SchemaPath == "" {
		return
	}
	p.schemaPath = cfg.SchemaPath
	p.SchemaData = schemaData
	if schemaData == nil || schemaPath != cfg.SchemaPath {
		if p.SchemaData, problems = schema.ReadFile(cfg.SchemaPath); problems != nil {
			p.Problems = append(p.Problems, problems...)
			return
		}
	}
	p.Schema, problems = parseSchema(cfg.SchemaPath, p.SchemaData)
	p.Problems = append(p.Problems, problems...)
}

// Valid reports whether the project has no errors (warnings allowed).
func (p *Project) Valid() bool { return !p.Problems.HasErrors() }
