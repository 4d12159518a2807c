package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// inOneBatch runs the writes at the same time while the writer's lock is
// held, so that they queue and are written in one transaction, and
// returns their errors.
func inOneBatch(t *testing.T, s *Store, writes ...func() error) []error {
	t.Helper()
	s.mu.Lock()
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = w() }()
	}
	for {
		s.batch.mu.Lock()
		n := len(s.batch.pending)
		s.batch.mu.Unlock()
		if n == len(writes) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.mu.Unlock()
	wg.Wait()
	return errs
}

// TestBatchUndoesAFailedWriteAlone: writes that share a transaction are
// written without savepoints; when one fails, the batch is written again
// with each write in a savepoint: the failed one is undone alone, the
// others commit, in one commit.
func TestBatchUndoesAFailedWriteAlone(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	refused := errors.New("refused")
	user := func(name string, fail bool) func() error {
		return func() error {
			return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO users(name, hash, created) VALUES (?, 'h', 't')`, name); err != nil {
					return err
				}
				if fail {
					return refused
				}
				return nil
			})
		}
	}
	before := s.Commits()
	errs := inOneBatch(t, s, user("a", false), user("b", true), user("c", false), user("d", false))
	if errs[0] != nil || !errors.Is(errs[1], refused) || errs[2] != nil || errs[3] != nil {
		t.Errorf("errors %v", errs)
	}
	if n := s.Commits() - before; n != 1 {
		t.Errorf("%d commits for one batch", n)
	}
	for name, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if has, err := s.HasUser(ctx, name); err != nil || has != want {
			t.Errorf("user %s stored: %v (%v), want %v", name, has, err, want)
		}
	}
	// A batch without a failure commits as it is.
	errs = inOneBatch(t, s, user("e", false), user("f", false))
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("errors %v", errs)
	}
}

// TestToolkitsInMemoryFollowCommits: the installed plugins the store keeps
// in memory are what the table holds, after installations of one plugin
// in one transaction (the second sees the first, uncommitted), a refused
// one, a deletion, and a reopening of the store.
func TestToolkitsInMemoryFollowCommits(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	build := func(id, n string, seen *string) InstallDecision {
		return func(cur *Toolkit) (*Toolkit, error) {
			if cur != nil {
				*seen = cur.BuildNumber
			}
			return &Toolkit{PluginID: id, Name: id, BuildNumber: n, ArtifactJSON: "{}", Installed: "t" + n, Updated: "t" + n}, nil
		}
	}
	var seen1, seen2, seen3 string
	errs := inOneBatch(t, s,
		func() error {
			_, err := s.Install(ctx, "p", spoolOf(t, s, "code 1"), build("p", "1", &seen1), nil)
			return err
		},
		func() error {
			_, err := s.Install(ctx, "q", spoolOf(t, s, "code q"), build("q", "1", &seen3), nil)
			return err
		})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	errs = inOneBatch(t, s,
		func() error {
			_, err := s.Install(ctx, "p", spoolOf(t, s, "code 2"), build("p", "2", &seen1), nil)
			return err
		},
		func() error {
			_, err := s.Install(ctx, "q", spoolOf(t, s, "code r"), func(*Toolkit) (*Toolkit, error) { return nil, errors.New("refused") }, nil)
			if err == nil {
				return errors.New("not refused")
			}
			return nil
		},
		func() error {
			_, err := s.Install(ctx, "p", spoolOf(t, s, "code 3"), build("p", "3", &seen2), nil)
			return err
		})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// In the order they were written, the second saw the first's build.
	if !(seen1 == "1" && seen2 == "2") && !(seen2 == "1" && seen1 == "3") {
		t.Errorf("the installations of builds 2 and 3 saw builds %q and %q", seen1, seen2)
	}
	list := func(s *Store) string {
		tks, err := s.Toolkits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		heads, total, _ := s.ToolkitHeads(ctx, All)
		out := fmt.Sprint(total)
		for i, tk := range tks {
			byRef, _ := s.ToolkitByRef(ctx, tk.Ref())
			byID, _ := s.ToolkitByPluginID(ctx, tk.PluginID)
			if byRef == nil || byID == nil || *byRef != *tk || *byID != *tk || heads[i] != headOfRow(tk) {
				t.Errorf("lookups of %s disagree: %+v %+v %+v", tk.Ref(), byRef, byID, heads[i])
			}
			out += fmt.Sprintf(" %s:%d:%s:%s:%s", tk.PluginID, tk.ID, tk.BuildNumber, tk.SourceSHA256[:8], tk.Installed)
		}
		return out
	}
	inMemory := list(s)
	q, _ := s.ToolkitByPluginID(ctx, "q")
	if err := s.DeleteToolkit(ctx, q); err != nil {
		t.Fatal(err)
	}
	afterDelete := list(s)
	s.Close()
	if s, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := list(s); got != afterDelete {
		t.Errorf("in memory %s, in the table %s", afterDelete, got)
	}
	p, _ := s.ToolkitByPluginID(ctx, "p")
	if p == nil || p.BuildNumber == "1" || p.Installed != "t1" || inMemory == afterDelete {
		t.Errorf("p %+v; before the deletion %s, after %s", p, inMemory, afterDelete)
	}
	if tk, _ := s.ToolkitByPluginID(ctx, "q"); tk != nil {
		t.Errorf("q deleted, still there: %+v", tk)
	}
}
