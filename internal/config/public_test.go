package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPublicPluginShapes loads configs written the way published Delphix
// plugins write theirs (CRLF line ends, a comment header, an indented
// hostTypes list, srcDir with a trailing slash, schemaFile with ./, a
// colon in the name, four-part build numbers, unquoted three-part
// externalVersion, rootSquashEnabled: false). Their text here is ours; dvp
// 5.0.1 accepts each (with its own language).
func TestPublicPluginShapes(t *testing.T) {
	configs := []struct {
		name, text                     string
		displayName, build, extVersion string
		rootSquash                     bool
		hostType                       string
	}{
		{"crlf with header", "#\r\n# Copyright (c) 2019 by Example. All rights reserved.\r\n#\r\nid: 0b284512-edee-4a9f-95b1-980f093cd4dd\r\nname: sc:exampledb\r\nexternalVersion: 1.0.1\r\nbuildNumber: 1.0.1\r\nhostTypes:\r\n  - UNIX\r\nentryPoint: runner:plugin\r\nsrcDir: src/\r\nschemaFile: ./schema.json\r\npluginType: STAGED\r\nlanguage: GO\r\n",
			"sc:exampledb", "1.0.1", "1.0.1", true, "UNIX"},
		{"quoted version, four-part build", "id: 18f4ff11-b758-4bf2-9a37-719a22f5a4b8\nname: sc:other\nexternalVersion: \"1.2.0\"\nbuildNumber: 1.2.0.0\nlanguage: GO\nhostTypes:\n- UNIX\npluginType: STAGED\nentryPoint: plugin_runner:plugin\nsrcDir: src\nschemaFile: schema.json\n",
			"sc:other", "1.2", "1.2.0", true, "UNIX"},
		{"windows, spaces in the name, trailing blank line", "id: 202b2966-a67b-4657-bd9a-c901d7f654fb\r\nname: Example on Windows\r\nlanguage: GO\r\nhostTypes:\r\n- WINDOWS\r\npluginType: STAGED\r\nentryPoint: plugin_runner:plugin\r\nsrcDir: src\r\nrootSquashEnabled: false\r\nschemaFile: schema.json\r\nbuildNumber: 1.0.4.5\r\nexternalVersion: 1.0.4\r\n\r\n",
			"Example on Windows", "1.0.4.5", "1.0.4", false, "WINDOWS"},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := project(t, c.text)
			cfg, probs := Load(p)
			if len(probs) != 0 {
				t.Fatalf("problems: %v", probs)
			}
			root := filepath.Dir(p)
			if cfg.Name != c.displayName || cfg.NormalizedBuildNumber() != c.build || cfg.ExternalVersion != c.extVersion ||
				cfg.RootSquashEnabled != c.rootSquash || strings.Join(cfg.HostTypes, ",") != c.hostType {
				t.Errorf("got name %q build %q externalVersion %q rootSquash %v hostTypes %v", cfg.Name, cfg.NormalizedBuildNumber(),
					cfg.ExternalVersion, cfg.RootSquashEnabled, cfg.HostTypes)
			}
			if cfg.SrcPath != filepath.Join(root, "src") || cfg.SchemaPath != filepath.Join(root, "schema.json") {
				t.Errorf("paths %q %q", cfg.SrcPath, cfg.SchemaPath)
			}
			if _, err := os.Stat(cfg.SrcPath); err != nil {
				t.Error(err)
			}
		})
	}
}
