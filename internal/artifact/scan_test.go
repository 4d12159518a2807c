package artifact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestScanStreamsSourceCode(t *testing.T) {
	doc := `{"type": "Plugin", "sourceCode": "QUJD\/REVG\u0047", "engineApi": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "n": [1, {"a": "}]\"["}]}`
	var got []byte
	f, err := Scan(strings.NewReader(doc), ScanOptions{SourceCode: func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "QUJD/REVGG" {
		t.Errorf("streamed %q", got)
	}
	if !f.SourceCodeStreamed || f.Has("missing") || !f.Has("sourceCode") {
		t.Errorf("fields %+v", f)
	}
	if strings.Join(f.Keys, ",") != "type,sourceCode,engineApi,n" {
		t.Errorf("keys %v", f.Keys)
	}
	if string(f.Values["n"]) != `[1, {"a": "}]\"["}]` {
		t.Errorf("raw n = %s", f.Values["n"])
	}
	if v, ok := CheckEngineAPI(f.Values["engineApi"]); !ok || v != EngineAPIVersion {
		t.Errorf("engineApi %v %v", v, ok)
	}
	if f.Size != int64(len(doc)) {
		t.Errorf("size %d, want %d", f.Size, len(doc))
	}
}

func TestScanPartialConsumerAndDuplicates(t *testing.T) {
	doc := `{"sourceCode": "` + strings.Repeat("A", 1<<20) + `", "a": 1, "a": 2}`
	f, err := Scan(strings.NewReader(doc), ScanOptions{SourceCode: func(r io.Reader) error {
		_, err := r.Read(make([]byte, 10))
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Values["a"]) != "2" || len(f.Duplicates) != 1 {
		t.Errorf("values %v duplicates %v", f.Values, f.Duplicates)
	}
	boom := errors.New("boom")
	if _, err := Scan(strings.NewReader(doc), ScanOptions{SourceCode: func(io.Reader) error { return boom }}); !errors.Is(err, boom) {
		t.Errorf("consumer error lost: %v", err)
	}
}

func TestScanErrors(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want string // "syntax", "object", "large"
	}{
		{``, "syntax"}, {`   `, "syntax"}, {`{`, "syntax"}, {`{"a"}`, "syntax"}, {`{"a":1,}`, "syntax"},
		{`{"a":1} x`, "syntax"}, {`{"a":[1,}`, "syntax"}, {`{"sourceCode": "abc`, "syntax"}, {`{"sourceCode": "a\qb"}`, "syntax"},
		{`{"a": tru}`, "syntax"}, {`{"a": "x` + "\x01" + `"}`, "syntax"}, {"\xef\xbb\xbf{}", "syntax"}, {`{"a":1}{}`, "syntax"},
		{`[1, 2]`, "object"}, {`"str"`, "object"}, {`12`, "object"}, {`null`, "object"},
		{`{"big": "` + strings.Repeat("x", 2000) + `"}`, "large"},
	} {
		_, err := Scan(strings.NewReader(c.doc), ScanOptions{MaxFieldBytes: 1000})
		var se *JSONSyntaxError
		var tl *FieldTooLargeError
		ok := false
		switch c.want {
		case "syntax":
			ok = errors.As(err, &se)
		case "object":
			ok = errors.Is(err, ErrNotObject)
		case "large":
			ok = errors.As(err, &tl) && tl.Key == "big"
		}
		if !ok {
			t.Errorf("Scan(%.40q) = %v, want %s error", c.doc, err, c.want)
		}
	}
	if f, err := Scan(strings.NewReader(" {} \n"), ScanOptions{}); err != nil || len(f.Keys) != 0 {
		t.Errorf("empty object: %v %v", f, err)
	}
}

// newSourceGen produces an artifact document with a huge sourceCode
// without holding it, for the memory test.
func newSourceGen(n int64) io.Reader {
	return io.MultiReader(
		strings.NewReader(`{"type": "Plugin", "sourceCode": "`),
		io.LimitReader(repeatReader('Q'), n),
		strings.NewReader(`", "engineApi": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}`),
	)
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestScanMemoryIsFlat scans a 512 MiB sourceCode and checks the heap did
// not grow with it.
func TestScanMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var n int64
	f, err := Scan(newSourceGen(512<<20), ScanOptions{SourceCode: func(r io.Reader) error {
		var err error
		n, err = io.Copy(io.Discard, r)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n != 512<<20 || !f.SourceCodeStreamed {
		t.Fatalf("streamed %d bytes", n)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("scanning allocated %d MiB for a 512 MiB sourceCode", grew>>20)
	}
}

func TestScanDecodesRealBase64(t *testing.T) {
	payload := bytes.Repeat([]byte("zip bytes \x00\xff"), 5000)
	doc, _ := json.Marshal(map[string]string{"sourceCode": base64.StdEncoding.EncodeToString(payload)})
	var got []byte
	_, err := Scan(bytes.NewReader(doc), ScanOptions{SourceCode: func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
		return err
	}})
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("round trip failed: %v", err)
	}
}

// TestScanBoundsWhatItKeeps: what Scan keeps (everything but sourceCode) is
// decoded and compiled afterwards, at a far higher cost than its text, so
// its bytes, its values and its depth are bounded for the whole document,
// not only per field: many fields below the per-field size, a schema of
// millions of "{}", or one nested thousands deep are refused while read.
func TestScanBoundsWhatItKeeps(t *testing.T) {
	manyFields := "{" + strings.Repeat(`"k": "`+strings.Repeat("x", 500)+`", `, 50) + `"last": 1}`
	for _, c := range []struct {
		name, doc string
		o         ScanOptions
		key       string
		bound     string
	}{
		{"many fields", manyFields, ScanOptions{MaxFieldBytes: 10000}, "k", BoundTotalBytes},
		{"many values", `{"a": [1, 2, 3], "snapshotSchema": {"allOf": [` + strings.Repeat(`{}, `, 100) + `{}]}}`, ScanOptions{MaxValues: 50}, "snapshotSchema", BoundValues},
		{"many fields of one value", "{" + strings.Repeat(`"k": 1, `, 60) + `"last": 1}`, ScanOptions{MaxValues: 50}, "k", BoundValues},
		{"deep", `{"a": ` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, ScanOptions{MaxDepth: 100}, "a", BoundDepth},
		{"deep by default", `{"a": ` + strings.Repeat(`{"x": `, 5000) + "1" + strings.Repeat("}", 5000) + `}`, ScanOptions{}, "a", BoundDepth},
		{"millions of values by default", `{"s": {"allOf": [` + strings.Repeat(`{},`, 1_000_000) + `{}]}}`, ScanOptions{}, "s", BoundValues},
	} {
		_, err := Scan(strings.NewReader(c.doc), c.o)
		var tl *FieldTooLargeError
		if !errors.As(err, &tl) || tl.Key != c.key || tl.Bound != c.bound {
			t.Errorf("%s: Scan = %v, want the bound %q exceeded at %q", c.name, err, c.bound, c.key)
			continue
		}
		if !strings.Contains(tl.Error(), `"`+c.key+`"`) {
			t.Errorf("%s: %q does not name the field", c.name, tl.Error())
		}
	}
	// Within the bounds: a value at the depth and count limits is kept.
	ok := `{"a": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `, "b": [1, 2]}`
	if f, err := Scan(strings.NewReader(ok), ScanOptions{MaxDepth: 100, MaxValues: 104}); err != nil || len(f.Keys) != 2 {
		t.Errorf("a document within the bounds: %v", err)
	}
}
