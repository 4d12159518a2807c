package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/project"
)

// checkRecord is what the checks of plugin_config.yml and schema.json
// found for the inputs with the key Key (checkKey): their problems, all
// warnings (a build records only what succeeded).
type checkRecord struct {
	Key      string    `json:"key"`
	Problems diag.List `json:"problems"`
}

// loadProject loads plugin_config.yml and schema.json and checks them.
// When their bytes and paths are those the last build checked (checkKey),
// they are only parsed (project.LoadUnchecked), and the problems are the
// ones that build recorded: compiling the two files' JSON Schemas is most
// of a check, and the same bytes give the same problems. A file that the
// parse alone finds wrong (srcDir gone, say) is checked in full.
func (b *pipeline) loadProject() *project.Project {
	st := b.state
	if st == nil || st.Checked == nil {
		p := project.Load(b.opts.ConfigPath)
		b.checked = newCheckRecord(p)
		return p
	}
	p := project.LoadUnchecked(b.opts.ConfigPath)
	if !p.Problems.HasErrors() && checkKey(dvpIdentity(), p) == st.Checked.Key {
		b.reused, b.checked = true, st.Checked
		p.Problems = append(diag.List{}, st.Checked.Problems...)
		return p
	}
	p = p.Check()
	b.checked = newCheckRecord(p)
	return p
}

// newCheckRecord is the record of a checked project; nil when the project
// has errors (a failed build records nothing) or no key.
func newCheckRecord(p *project.Project) *checkRecord {
	if !p.Checked || p.Problems.HasErrors() || p.Config == nil || p.SchemaData == nil {
		return nil
	}
	return &checkRecord{Key: checkKey(dvpIdentity(), p), Problems: append(diag.List{}, p.Problems...)}
}

// checkKey is the key of everything the checks of a project's two files
// depend on: the dvp binary (its rules and messages; id is its Go build
// ID), the paths the problems name and the directories they resolve to,
// and the two files' bytes.
func checkKey(id string, p *project.Project) string {
	h := sha256.New()
	cfg := p.Config
	fmt.Fprintf(h, "dvp check key %d\n%s\n", stateVersion, id)
	for _, s := range []string{cfg.Path, cfg.Dir, cfg.SrcPath, cfg.SchemaPath} {
		fmt.Fprintf(h, "%q\n", s)
	}
	for _, data := range [][]byte{p.ConfigData, p.SchemaData} {
		fmt.Fprintf(h, "%d\n", len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
