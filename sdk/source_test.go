package sdk

import (
	"bytes"
	"io/fs"
	"os"
	"testing"
)

// Source holds every file of the module's directory tree, byte for byte.
func TestSourceHoldsTheModule(t *testing.T) {
	disk := os.DirFS(".")
	n := 0
	err := fs.WalkDir(disk, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := fs.ReadFile(disk, p)
		if err != nil {
			return err
		}
		got, err := fs.ReadFile(Source, p)
		if err != nil {
			t.Errorf("%s is not in Source: add its directory to the go:embed line of source.go", p)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Source", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	_ = fs.WalkDir(Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			count++
		}
		return nil
	})
	if count != n {
		t.Errorf("Source holds %d files, the directory %d", count, n)
	}
}
