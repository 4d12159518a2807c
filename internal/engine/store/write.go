package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// The write path. Every commit of the database is an fsync of its
// write-ahead log (synchronous=FULL): the store makes few of them. The
// small writes of concurrent callers (job events, actions, finished jobs,
// object updates) share one transaction: the first caller to find no
// transaction running writes every write waiting at that moment, each in
// a savepoint of its own so that one that fails is undone alone, and
// commits once for all (group commit). Each caller returns when its write
// is committed, as with a transaction of its own.

// writeOp is one caller's write, waiting for a transaction.
type writeOp struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// batcher holds the writes waiting for the next transaction.
type batcher struct {
	mu      sync.Mutex
	pending []*writeOp
	leading bool // a caller is writing the pending writes
}

// Commits is the number of database transactions committed since the
// store was opened (each one an fsync of the write-ahead log).
func (s *Store) Commits() int64 { return s.commits.Load() }

// Fsyncs is the number of fsyncs the store asked for since it was opened:
// of its spool files, of its blob directories, and its commits (each one
// an fsync of the write-ahead log with synchronous=FULL). SQLite's
// checkpoints, which copy the write-ahead log into the database every
// 1,000 pages or so, add theirs.
func (s *Store) Fsyncs() int64 { return s.syncs.Load() + s.commits.Load() }

// commit commits tx and counts it.
func (s *Store) commit(tx *sql.Tx) error {
	err := tx.Commit()
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

// write runs fn in a transaction, shared with the writes other goroutines
// ask for at the same moment, and returns when it is committed. fn runs
// under the store's writer lock and must only run SQL on tx.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.pending = append(b.pending, op)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if lead {
		s.writePending()
	}
	return <-op.done
}

// writePending writes the pending writes, a transaction at a time, until
// none is left.
func (s *Store) writePending() {
	b := &s.batch
	for {
		s.mu.Lock() // writes arriving while this waits join the batch
		b.mu.Lock()
		ops := b.pending
		b.pending = nil
		if len(ops) == 0 {
			b.leading = false
			b.mu.Unlock()
			s.mu.Unlock()
			return
		}
		b.mu.Unlock()
		s.writeBatch(ops)
		s.mu.Unlock()
	}
}

// writeBatch writes ops in one transaction; callers hold s.mu. A write
// whose caller has gone (its context ended) is skipped.
func (s *Store) writeBatch(ops []*writeOp) {
	ctx := context.Background() // one caller going must not undo the others' writes
	errs := make([]error, len(ops))
	finish := func(commitErr error) {
		for i, op := range ops {
			if errs[i] == nil {
				errs[i] = commitErr
			}
			op.done <- errs[i]
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	single := len(ops) == 1
	for i, op := range ops {
		if errs[i] = op.ctx.Err(); errs[i] != nil {
			continue
		}
		if single {
			errs[i] = run(ctx, tx, op.fn)
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = run(ctx, tx, op.fn); errs[i] != nil {
			tx.ExecContext(ctx, `ROLLBACK TO w`)
		}
		tx.ExecContext(ctx, `RELEASE w`)
	}
	if single && errs[0] != nil {
		tx.Rollback()
		finish(nil)
		return
	}
	finish(s.commit(tx))
}

// run runs a write; a panic in it is its error (the goroutine running the
// batch is another caller's, and must go on to release the lock).
func run(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("a write of the store panicked: %v", r)
		}
	}()
	return fn(ctx, tx)
}

// exec runs one statement as a write of its own (see write).
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}
