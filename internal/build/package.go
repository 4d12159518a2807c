package build

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/internal/zipfile"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// SourcesPrefix is the directory of the plugin's sources in the sourceCode
// ZIP, beside the binary (artifact.BinaryEntry) and the build record.
const SourcesPrefix = "src/"

// maxSourceFile bounds one source file put into the artifact.
const maxSourceFile = 64 << 20

// sourceFiles lists the files of srcDir that go into the artifact: every
// regular file (symbolic links to regular files inside srcDir are
// followed; one that leads out of it is left out with a warning: a
// project from elsewhere could link its src/key to ~/.ssh/id_rsa), except
// hidden files and directories (names starting with "."), compiled
// programs (ELF, Mach-O, PE) such as the output of a plain 'go build', and
// the files in skip. Names are slash paths under SourcesPrefix.
func sourceFiles(srcDir string, skip map[string]bool) ([]zipfile.File, diag.List) {
	var files []zipfile.File
	var ps diag.List
	var root string // srcDir with its links resolved, once a link needs it
	err := filepath.WalkDir(srcDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			ps = append(ps, diag.Errorf(path, 0, 0, "cannot read the source directory: %v", err))
			return nil
		}
		if path == srcDir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || skip[path] {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if root == "" {
				if root, err = filepath.EvalSymlinks(srcDir); err != nil {
					return err
				}
			}
			target, err := filepath.EvalSymlinks(path)
			if err == nil && !fsutil.Within(root, target) {
				ps = append(ps, diag.Warningf(path, 0, 0, "left out of the artifact: a symbolic link to %s, outside the source directory %s. "+
					"dvp packs no file from outside it, so that a link cannot carry a file such as a private key into the artifact; "+
					"copy the file into the source directory if the plugin needs it", target, srcDir))
				return nil
			}
		}
		info, err := os.Stat(path) // follows a symbolic link
		if err != nil {
			ps = append(ps, diag.Warningf(path, 0, 0, "left out of the artifact: %v", err))
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil // a directory link or a special file
		}
		if info.Size() > maxSourceFile {
			ps = append(ps, diag.Warningf(path, 0, 0, "left out of the artifact: larger than %d MiB", maxSourceFile>>20))
			return nil
		}
		if isProgram(path) {
			return nil
		}
		rel, err := filepath.Rel(srcDir, path)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, zipfile.File{Name: SourcesPrefix + filepath.ToSlash(rel), Mode: mode, Path: path})
		return nil
	})
	if err != nil {
		ps = append(ps, diag.Errorf(srcDir, 0, 0, "cannot read the source directory: %v", err))
	}
	return files, ps
}

// readSources lists the sources (sourceFiles) and reads each: its sha256
// and its compressed form for the ZIP. With pack false, they are only
// hashed while they are the sources known (the last build packed them
// into its artifact): they are packed later if the artifact must be
// written after all. Once one differs from known the artifact will be
// written, so every source is packed in this pass (those hashed before it
// are read again). Sources do not change during the build, so this runs
// while the plugin compiles. The sums are those of the bytes packed, so
// that the key of an artifact (artifactKey) is that of its content.
func readSources(srcDir string, skip map[string]bool, pack bool, known []sourceSum) packedSources {
	files, ps := sourceFiles(srcDir, skip)
	listed := len(ps)
	out := packedSources{files: files, sums: make([]sourceSum, 0, len(files))}
	if pack {
		out.packed = make(map[string]*zipfile.PackedFile, len(files))
	}
	for i := 0; i < len(files); i++ {
		f := files[i]
		data, err := os.ReadFile(f.Path)
		if err != nil {
			ps = append(ps, diag.Errorf(f.Path, 0, 0, "cannot read the source file: %v", err))
			continue
		}
		if out.packed == nil {
			sum := sha256.Sum256(data)
			s := sourceSum{Name: f.Name, Mode: f.Mode, SHA256: hex.EncodeToString(sum[:])}
			if n := len(out.sums); n < len(known) && known[n] == s {
				out.sums = append(out.sums, s)
				continue
			}
			// Changed: pack every source, from the first.
			out.packed = make(map[string]*zipfile.PackedFile, len(files))
			out.sums, ps, i = out.sums[:0], ps[:listed], -1
			continue
		}
		p, err := zipfile.Pack(data, sourceLevel(len(data)))
		if err != nil {
			ps = append(ps, diag.Errorf(f.Path, 0, 0, "cannot compress the source file: %v", err))
			continue
		}
		out.packed[f.Name] = p
		out.sums = append(out.sums, sourceSum{Name: f.Name, Mode: f.Mode, SHA256: p.SHA256()})
	}
	if out.packed == nil && len(out.sums) != len(known) {
		return readSources(srcDir, skip, true, nil) // a source fewer
	}
	out.ps = ps
	return out
}

// isProgram reports whether a file starts like a compiled executable.
func isProgram(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	if n, _ := io.ReadFull(f, b[:]); n < 4 {
		return n >= 2 && b[0] == 'M' && b[1] == 'Z'
	}
	switch {
	case bytes.Equal(b[:], []byte("\x7fELF")):
		return true
	case b[0] == 'M' && b[1] == 'Z':
		return true
	}
	switch string(b[:]) {
	case "\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe":
		return true
	}
	return false
}

// zipEntries are the entries of the sourceCode ZIP: the linux/amd64
// binary (its content is packed ahead, see zipfile.WritePacked), the build
// record and the sources. The build record is packed into pre here,
// stored: deflating its few hundred bytes took a compressor's fresh memory
// (~1 ms of page faults) right when the artifact's writing waited for it.
func zipEntries(rec artifact.BuildRecord, sources []zipfile.File, pre map[string]*zipfile.PackedFile) ([]zipfile.File, error) {
	recJSON, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	recJSON = append(recJSON, '\n')
	p, err := zipfile.Pack(recJSON, zipfile.StoreLevel)
	if err != nil {
		return nil, err
	}
	pre[artifact.BuildRecordEntry] = p
	return append([]zipfile.File{
		{Name: artifact.BinaryEntry, Mode: 0o755},
		{Name: artifact.BuildRecordEntry, Mode: 0o644, Data: recJSON},
	}, sources...), nil
}

// sourceLevel is the deflate level of the sources in the sourceCode ZIP:
// the fastest. Sources are a small part of an artifact (the binary is
// most of it, stored), and they are compressed again after every edit,
// while go build runs: at the default level the compressor's tables (about
// a MiB, cleared for every file) cost twice the CPU time of BestSpeed's
// for the scaffold's sources, for 10% fewer bytes.
func sourceLevel(int) int { return flate.BestSpeed }

// sourceSlot is where sourceCode goes in the encoding of an artifact whose
// sourceCode is empty: a top-level key is the only one indented by 4.
var sourceSlot = []byte("\n    \"" + artifact.SourceCodeField + "\": \"\"")

// artifactStream is the artifact file as an io.Reader for
// fsutil.WriteReaderCommit, which calls its WriteTo: the JSON around
// sourceCode, and the ZIP written through a base64 encoder, straight into
// the file and a sha256 (on another goroutine: pipeWriter).
type artifactStream struct {
	head, tail []byte
	files      []zipfile.File
	pre        map[string]*zipfile.PackedFile
	sum        hash.Hash
	done       bool
}

func (s *artifactStream) Read([]byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	return 0, errors.New("artifactStream: read through WriteTo")
}

func (s *artifactStream) WriteTo(w io.Writer) (int64, error) {
	pw := newPipeWriter(w, s.sum)
	_, err := pw.Write(s.head)
	if err == nil {
		enc := &base64Writer{p: pw}
		err = zipfile.WritePacked(enc, s.files, s.pre)
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		_, err = pw.Write(s.tail)
	}
	n, perr := pw.Close()
	if err == nil {
		err = perr
	}
	s.done = true
	return n, err
}

// encodeArtifact is the encoding of a with an empty sourceCode
// (artifact.Marshal): what artifactKey hashes, and what writeArtifact
// writes around the ZIP. It does not depend on the binary, so the build
// encodes it once, while the binary is hashed.
func encodeArtifact(a *artifact.Artifact) ([]byte, error) {
	c := *a
	c.SourceCode = ""
	return artifact.Marshal(&c)
}

// writeArtifact writes the artifact whose encoding with an empty
// sourceCode is doc (encodeArtifact) to path, atomically
// (fsutil.WriteReaderSpare, through the spare file of the work directory
// workDir, "" for none), with sourceCode the base64 of the ZIP of
// files: the ZIP is streamed through the base64 encoder into the file, so
// neither the ZIP nor its base64 text is ever held in memory. The bytes are
// those of artifact.Marshal with the same sourceCode (base64 needs no JSON
// escaping). It returns the hex sha256 of the file. gate, if not nil, is
// asked when the complete file is written and synced, before it replaces
// path: an error abandons it (fsutil.WriteReaderCommit).
func writeArtifact(path, workDir string, doc []byte, files []zipfile.File, pre map[string]*zipfile.PackedFile, gate func() error) (string, error) {
	i := bytes.Index(doc, sourceSlot)
	if i < 0 {
		return "", errors.New("no sourceCode in the encoding of the artifact")
	}
	cut := i + len(sourceSlot) - 1 // before the closing quote
	head, tail := doc[:cut], doc[cut:]
	st := &artifactStream{head: head, tail: tail, files: files, pre: pre, sum: sha256.New()}
	var err error
	if workDir != "" {
		err = fsutil.WriteReaderSpare(path, filepath.Join(workDir, spareName), st, 0o644, gate)
	} else {
		err = fsutil.WriteReaderCommit(path, st, 0o644, gate)
	}
	if err != nil {
		return "", err
	}
	h := st.sum
	return hex.EncodeToString(h.Sum(nil)), nil
}

// discoveryKeys are the keys of repositoryDefinition and
// sourceConfigDefinition that the artifact moves into discoveryDefinition.
var discoveryKeys = []string{"identityFields", "nameField"}

// newArtifact assembles the artifact (docs/build.md, the artifact) from the project and
// the manifest; writeArtifact adds sourceCode.
func newArtifact(cfg *config.Config, sch *schema.Schema, m *artifact.PluginManifest) (*artifact.Artifact, diag.List) {
	var ps diag.List
	def := func(name string) json.RawMessage {
		raw, ok := sch.Definitions[name]
		if !ok {
			ps = append(ps, diag.Errorf(sch.Path, 0, 0, "'%s' is a required property", name))
			return json.RawMessage("{}")
		}
		return raw
	}
	language := cfg.Language
	if language == "" {
		language = artifact.LanguageGo
	}
	locale := cfg.DefaultLocale
	if locale == "" {
		locale = artifact.DefaultLocale
	}
	linkedType := artifact.TypeLinkedDirectSourceDefinition
	if strings.EqualFold(cfg.PluginType, protocol.PluginTypeStaged) {
		linkedType = artifact.TypeLinkedStagedSourceDefinition
	}
	a := &artifact.Artifact{
		Type:                         artifact.TypePlugin,
		PluginID:                     cfg.ID,
		Name:                         cfg.Name,
		DefaultLocale:                locale,
		Language:                     language,
		HostTypes:                    append([]string{}, cfg.HostTypes...),
		EntryPoint:                   cfg.EntryPoint,
		BuildNumber:                  cfg.NormalizedBuildNumber(),
		BuildAPI:                     artifact.BuildAPIVersion,
		EngineAPI:                    artifact.EngineAPIVersion,
		RootSquashEnabled:            cfg.RootSquashEnabled,
		VirtualSourceDefinition:      artifact.SourceDefinition{Type: artifact.TypeVirtualSourceDefinition, Parameters: def("virtualSourceDefinition")},
		LinkedSourceDefinition:       artifact.SourceDefinition{Type: linkedType, Parameters: def("linkedSourceDefinition")},
		DiscoveryDefinition:          artifact.DiscoveryDefinition{Type: artifact.TypeDiscoveryDefinition, ManualSourceConfigDiscovery: cfg.ManualDiscovery},
		SnapshotSchema:               def("snapshotDefinition"),
		SnapshotParametersDefinition: artifact.SnapshotParametersDefinition{Type: artifact.TypeSnapshotParametersDefinition, Schema: def("snapshotParametersDefinition")},
		Manifest:                     *m,
		ExternalVersion:              cfg.ExternalVersion,
		LuaName:                      cfg.LuaName,
		ExtendedStartStopHooks:       cfg.ExtendedStartStopHooks,
		MinimumLuaVersion:            cfg.MinimumLuaVersion,
	}
	dd := &a.DiscoveryDefinition
	for _, d := range []struct {
		name   string
		schema *json.RawMessage
		keys   map[string]string // schema.json's key -> the artifact's
	}{
		{"repositoryDefinition", &dd.RepositorySchema, map[string]string{"identityFields": "repositoryIdentityFields", "nameField": "repositoryNameField"}},
		{"sourceConfigDefinition", &dd.SourceConfigSchema, map[string]string{"identityFields": "sourceConfigIdentityFields", "nameField": "sourceConfigNameField"}},
	} {
		stripped, removed, err := stripKeys(def(d.name), discoveryKeys)
		if err != nil {
			ps = append(ps, diag.Errorf(sch.Path, 0, 0, "cannot read %s: %v", d.name, err))
			continue
		}
		*d.schema = stripped
		// dvp copies nameField and identityFields as they are, whatever
		// their type (docs/compatibility.md, The artifact); schema.json's
		// warnings say what an engine expects there.
		for _, k := range discoveryKeys {
			if raw, ok := removed[k]; ok {
				if err := dd.SetField(d.keys[k], raw); err != nil {
					ps = append(ps, pointed(sch, "/"+d.name+"/"+k, "cannot read %s: %v", k, err))
				}
			}
		}
	}
	return a, ps
}

// oneLine is a JSON value as one line for a message (a problem is one
// line): compacted, and cut at 80 bytes.
func oneLine(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.Write(raw)
	}
	s := b.String()
	if len(s) > 80 {
		s = strings.ToValidUTF8(s[:77], "") + "..."
	}
	return s
}

func pointed(sch *schema.Schema, ptr, format string, args ...any) diag.Problem {
	line, col := sch.Position(ptr)
	p := diag.Errorf(sch.Path, line, col, format, args...)
	p.Pointer = ptr
	return p
}

// stripKeys removes top-level keys from a JSON object, keeping the order
// and the text of the others; it returns the removed values.
func stripKeys(raw json.RawMessage, keys []string) (json.RawMessage, map[string]json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, nil, err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return raw, nil, nil // not an object: nothing to strip
	}
	removed := map[string]json.RawMessage{}
	var out bytes.Buffer
	out.WriteByte('{')
	first := true
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, nil, err
		}
		key := kt.(string)
		var val json.RawMessage
		if err := d.Decode(&val); err != nil {
			return nil, nil, err
		}
		if contains(keys, key) {
			removed[key] = val
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(key)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(val)
	}
	out.WriteByte('}')
	return out.Bytes(), removed, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// sortedNames returns the entry names of files, sorted (for reports).
func sortedNames(files []zipfile.File) []string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	sort.Strings(names)
	return names
}
