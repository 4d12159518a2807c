package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"sort"

	"github.com/dvpkit/dvp/internal/codegen"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/internal/schema"
)

// GeneratedDirName is the directory under srcDir that holds generated code.
const GeneratedDirName = codegen.Package

// GenerateOptions are the inputs of the generate-only build (dvp build -g).
type GenerateOptions struct {
	ConfigPath string
	// Check reports whether the generated code on disk is stale instead of
	// writing it (for CI).
	Check bool
}

// GenerateResult says what generation did.
type GenerateResult struct {
	Problems diag.List // warnings, and the errors that stopped generation
	Dir      string    // <srcDir>/generated
	Files    []string  // names of the generated files
	Stale    bool      // with Check: the code on disk differs
	// Demoted counts, per file, the errors of a full build that -g
	// reported as warnings (dvp's -g logs "Validation failed on plugin
	// file <path> : <message>" for them and goes on).
	Demoted map[string]int
}

// Failed reports whether generation could not run or failed.
func (r *GenerateResult) Failed() bool { return r.Problems.HasErrors() }

// Generate validates the project in warning mode, as dvp build -g does:
// problems that do not stop generation are reported as warnings. It then
// generates the Go types of schema.json into <srcDir>/generated, replacing
// that directory atomically, or with Check compares them to what is there.
func Generate(opts GenerateOptions) *GenerateResult {
	p := project.Load(opts.ConfigPath)
	res := &GenerateResult{}
	for _, pr := range p.Problems {
		if !blocksGeneration(p, pr) {
			if pr.Severity == diag.Error {
				if res.Demoted == nil {
					res.Demoted = map[string]int{}
				}
				res.Demoted[pr.File]++
			}
			pr.Severity = diag.Warning
		}
		res.Problems = append(res.Problems, pr)
	}
	if res.Failed() {
		return res
	}
	dir, files, stale, _, problems := generateCode(p, opts.Check)
	res.Problems = append(res.Problems, problems...)
	res.Dir, res.Files, res.Stale = dir, files, stale
	return res
}

// generateCode generates the Go types of a loaded project's schema into
// <srcDir>/generated. With check it only reports whether the code on disk
// is stale; otherwise it writes the directory (atomically) only when it is
// stale, so that an unchanged schema leaves the files, and the editor and
// build caches, alone. sums maps each file's name to the sha256 of its
// content.
func generateCode(p *project.Project, check bool) (dir string, files []string, stale bool, sums map[string]string, problems diag.List) {
	cfg, sch := p.Config, p.Schema
	if cfg == nil || sch == nil || cfg.SrcPath == "" {
		// Every such case carries an error already; this guards the invariant.
		path := ""
		if cfg != nil {
			path = cfg.Path
		}
		return "", nil, false, nil, diag.List{diag.Errorf(path, 0, 0, "cannot generate code: the project could not be loaded")}
	}
	defs := sch.Definitions
	if len(defs) < len(schema.DefinitionNames) {
		// Only dvp build -g gets here with a definition missing (schema.json
		// already warned): as dvp's -g, generate the others, and an empty
		// type for the missing one.
		defs = maps.Clone(defs)
		for _, name := range schema.DefinitionNames {
			if _, ok := defs[name]; !ok {
				defs[name] = json.RawMessage(`{"type": "object", "properties": {}}`)
			}
		}
	}
	out, err := codegen.Generate(defs, codegenOptions(cfg, sch))
	if err != nil {
		return "", nil, false, nil, diag.List{diag.Errorf(sch.Path, 0, 0, "code generation failed: %v", err)}
	}
	for _, w := range out.Warnings {
		// The generator knows JSON pointers; schema.json knows where they are.
		if w.Line == 0 && w.File == sch.Path {
			w.Line, w.Column = sch.Position(w.Pointer)
		}
		problems = append(problems, w)
	}
	dir = filepath.Join(cfg.SrcPath, GeneratedDirName)
	sums = make(map[string]string, len(out.Files))
	for name, data := range out.Files {
		files = append(files, name)
		sum := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(sum[:])
	}
	sort.Strings(files)
	stale, err = codegen.Stale(dir, out.Files)
	if err != nil {
		return dir, files, false, sums, append(problems, diag.Errorf(dir, 0, 0, "cannot compare generated code: %v", err))
	}
	if check || !stale {
		return dir, files, stale, sums, problems
	}
	if err := codegen.WriteDir(dir, out.Files); err != nil {
		problems = append(problems, diag.Errorf(dir, 0, 0, "cannot write generated code: %v", err))
	}
	return dir, files, stale, sums, problems
}

// blocksGeneration tells the problems that stop generation even in warning
// mode: a config or schema that cannot be read at all, a srcDir or schema
// file that does not resolve, and a schema.json whose top level is not an
// object. Other schema problems are warnings, as in dvp's -g: the
// generator gets what there is (a missing definition is an empty one), and
// fails with its own error on a definition it cannot turn into Go.
func blocksGeneration(p *project.Project, pr diag.Problem) bool {
	if pr.Severity != diag.Error {
		return false
	}
	switch {
	case p.Config == nil, p.Config.SrcPath == "", p.Config.SchemaPath == "":
		return true
	case p.Schema == nil:
		return true
	case pr.File == p.Schema.Path:
		return p.Schema.Definitions == nil
	}
	return false
}

// String is a one-line description of a generate result, for logs.
func (r *GenerateResult) String() string {
	return fmt.Sprintf("generated %d files into %s (%s)", len(r.Files), r.Dir, r.Problems.Summary())
}
