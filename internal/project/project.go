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
}

// Load reads and validates the plugin config at configPath and the schema
// file it names. It checks the two files only; checks of the Go sources
// belong to the build.
func Load(configPath string) *Project {
	p := &Project{}
	cfg, problems := config.Load(configPath)
	p.Config = cfg
	p.Problems = append(p.Problems, problems...)
	if cfg != nil && cfg.SchemaPath != "" {
		s, sp := schema.Load(cfg.SchemaPath)
		p.Schema = s
		p.Problems = append(p.Problems, sp...)
	}
	return p
}

// Valid reports whether the project has no errors (warnings allowed).
func (p *Project) Valid() bool { return !p.Problems.HasErrors() }
