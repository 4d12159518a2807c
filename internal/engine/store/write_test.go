package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

func spoolOf(t *testing.T, s *Store, content string) *Spool {
	t.Helper()
	sp, err := s.NewSpool("source")
	if err != nil {
		t.Fatal(err)
	}
	sp.Write([]byte(content))
	if err := sp.Finish(); err != nil {
		t.Fatal(err)
	}
	return sp
}

func row(id string) InstallDecision {
	return func(*Toolkit) (*Toolkit, error) {
		return &Toolkit{PluginID: id, Name: id, BuildNumber: "1", ArtifactJSON: "{}", Installed: "t", Updated: "t"}, nil
	}
}

// TestInstallsShareCommitsAndKeepBlobs installs plugins concurrently
// (their transactions shared: fewer commits than installations), refuses
// some whose code another installation uses, and checks that every
// installed row has its blob and that the blob of a refused installation
// alone is removed.
func TestInstallsShareCommitsAndKeepBlobs(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	refused := errors.New("refused")
	const n = 24
	before := s.Commits()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Every fourth refused, with the same code as an accepted one.
			decide := row(fmt.Sprintf("p%d", i))
			if i%4 == 3 {
				decide = func(*Toolkit) (*Toolkit, error) { return nil, refused }
			}
			if _, err := s.Install(ctx, fmt.Sprintf("p%d", i), spoolOf(t, s, fmt.Sprintf("code %d", i/2)), decide, nil); err != nil && !errors.Is(err, refused) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	commits := s.Commits() - before
	t.Logf("%d installations, %d commits", n, commits)
	if commits > n {
		t.Errorf("%d commits for %d installations", commits, n)
	}
	rows, err := s.Toolkits(ctx)
	if err != nil || len(rows) != n-n/4 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		p, _ := s.BlobPath(r.SourceSHA256)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s has no blob: %v", r.PluginID, err)
		}
	}
	// A refused installation of code nobody else has leaves no blob.
	sp := spoolOf(t, s, "code nobody has")
	sum := sp.Sum()
	if _, err := s.Install(ctx, "alone", sp, func(*Toolkit) (*Toolkit, error) { return nil, refused }, nil); !errors.Is(err, refused) {
		t.Fatalf("refused install: %v", err)
	}
	if p, _ := s.BlobPath(sum); fileExists(p) {
		t.Errorf("the refused installation's blob %s is left", sum)
	}
	if entries, _ := os.ReadDir(s.dir + "/" + TmpDir); len(entries) != 0 {
		t.Errorf("spool files left: %v", entries)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
