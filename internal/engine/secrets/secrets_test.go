package secrets

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/logging"
)

func TestSetJSONKeepsEverythingElse(t *testing.T) {
	doc := []byte(`{"z":1,"a":{"b":[0,{"c":"x"}],"d":"y"},"e":"\u00e9"}`)
	got, err := SetJSON(doc, []string{"a", "b", "1", "c"}, []byte(`"M"`))
	if err != nil || string(got) != `{"z":1,"a":{"b":[0,{"c":"M"}],"d":"y"},"e":"\u00e9"}` {
		t.Errorf("%s %v", got, err)
	}
	for _, path := range [][]string{{"missing"}, {"z", "deeper"}, {"a", "b", "7"}} {
		if got, err := SetJSON(doc, path, []byte(`"M"`)); err != nil || !bytes.Equal(got, doc) {
			t.Errorf("%v: %s %v", path, got, err)
		}
	}
}

func TestRedactingWriterSeesSecretsAcrossWrites(t *testing.T) {
	r := logging.NewRedactor()
	r.Add("top-secret-value")
	var out bytes.Buffer
	w := &RedactingWriter{w: &out, r: r}
	for _, p := range []string{"line 1 top-se", "cret-value\nline 2 ", "top-secret-value without newline"} {
		w.Write([]byte(p))
	}
	w.Flush()
	if strings.Contains(out.String(), "top-secret-value") || strings.Count(out.String(), logging.Mask) != 2 {
		t.Errorf("%q", out.String())
	}
}
