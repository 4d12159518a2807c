package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// The write path. Every commit of the database is an fsync of its
// write-ahead log (synchronous=FULL): the store makes few of them. The
// small writes of concurrent callers (job events, actions, finished jobs,
// object updates) share one transaction: the first caller to find no
// transaction running writes every write waiting at that moment, undoing
// one that fails alone (writeBatch), and commits once for all (group
// commit). Each caller returns when its write
// is committed, as with a transaction of its own.

// writeOp is one caller's write, waiting for a transaction.
type writeOp struct {
	ctx      context.Context
	fn       func(ctx context.Context, tx *sql.Tx) error
	after    func()          // run once fn's write is committed, in commit order
	ready    <-chan struct{} // closed when the write may be written; nil: at once
	readyErr *error          // set when ready closes: the write fails with it, unwritten
	done     chan error
}

// batcher holds the writes waiting for the next transaction.
type batcher struct {
	mu      sync.Mutex
	pending []*writeOp
	leading bool          // a caller is writing the pending writes
	wake    chan struct{} // poked when a write arrives or becomes ready
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
	defer since(&s.wstats.commitNs, time.Now())
	err := tx.Commit()
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

// TxStep is one write of a transaction: the store's exported writes are
// made of them (InsertActionTx, AddEventsTx, FinishJobTx, ApplyMigrated,
// CheckToolkitObjects, ...), and Install runs a caller's after the toolkit
// row, in the same transaction (an upgrade stores its migrated objects,
// its action and its job's end there); an error rolls everything back. A
// caller chains steps (Chain) and may wrap one, but runs no SQL of its
// own: Tx is opaque.
type TxStep func(ctx context.Context, tx *Tx) error

// Tx is the transaction a TxStep runs in. Only the store reads it.
type Tx struct{ tx *sql.Tx }

// inTx runs a in the writer's transaction tx (a write of its own, or a
// step of a larger one).
func (a TxStep) inTx(ctx context.Context, tx *sql.Tx) error { return a(ctx, &Tx{tx: tx}) }

// write runs fn in a transaction, shared with the writes other goroutines
// ask for at the same moment, and returns when it is committed. fn runs
// under the store's writer lock and must only run SQL on tx.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.writeThen(ctx, fn, nil)
}

// writeThen is write, with after run once the write is committed, under
// the writer's lock: the writes' afters run in the order of their
// commits (the in-memory toolkits follow the table that way).
func (s *Store) writeThen(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error, after func()) error {
	return s.writeWhenReady(ctx, nil, nil, fn, after)
}

// writeWhenReady is writeThen for a write that may only commit once
// ready is closed (an upload's code durable in its blob): it waits in the
// queue meanwhile without holding up the transactions of the writes that
// are ready, and joins the first one that starts after. When *readyErr is
// set as ready closes, the write fails with it, unwritten. nil ready: at
// once.
func (s *Store) writeWhenReady(ctx context.Context, ready <-chan struct{}, readyErr *error, fn func(ctx context.Context, tx *sql.Tx) error, after func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer since(&s.wstats.waitNs, time.Now())
	op := &writeOp{ctx: ctx, fn: fn, after: after, ready: ready, readyErr: readyErr, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.pending = append(b.pending, op)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if ready != nil {
		go func() { <-ready; b.poke() }()
	}
	if lead {
		s.writePending(op)
	} else {
		b.poke() // a writer waiting for a write to be ready takes this one
	}
	return <-op.done
}

// poke wakes the writer when it waits for a write to be ready.
func (b *batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// isReady reports whether op may be written now.
func (op *writeOp) isReady() bool {
	if op.ready == nil {
		return true
	}
	select {
	case <-op.ready:
		return true
	default:
		return false
	}
}

// writePending writes the pending writes that are ready, a transaction
// at a time, until none is left. The caller that found no transaction
// running writes until its own write (own) is done; the writes that
// arrived meanwhile are written by a goroutine of its own, so that no
// caller's answer waits for the writes of others after its own (under a
// steady stream of writes it would wait until the stream paused).
func (s *Store) writePending(own *writeOp) {
	b := &s.batch
	for {
		s.mu.Lock() // writes arriving while this waits join the batch
		b.mu.Lock()
		var ops, waiting []*writeOp
		for _, op := range b.pending {
			if op.isReady() {
				ops = append(ops, op)
			} else {
				waiting = append(waiting, op)
			}
		}
		b.pending = waiting
		if len(ops) == 0 {
			if len(waiting) == 0 {
				b.leading = false
				b.mu.Unlock()
				s.mu.Unlock()
				return
			}
			// Every write waits to be ready: wait until one is, or
			// another write arrives.
			b.mu.Unlock()
			s.mu.Unlock()
			<-b.wake
			continue
		}
		b.mu.Unlock()
		mine := false
		var failed []*writeOp // not written: their code could not be stored
		written := ops[:0]
		for _, op := range ops {
			if op.readyErr != nil && *op.readyErr != nil {
				failed = append(failed, op)
				continue
			}
			written = append(written, op)
			mine = mine || op == own
		}
		for _, op := range failed {
			mine = mine || op == own
			op.done <- *op.readyErr
		}
		if len(written) > 0 {
			locked := time.Now()
			s.wstats.batches.Add(1)
			s.wstats.writes.Add(int64(len(written)))
			s.writeBatch(written)
			since(&s.wstats.lockNs, locked)
		}
		s.mu.Unlock()
		if own != nil && mine {
			b.mu.Lock()
			more := len(b.pending) > 0
			if !more {
				b.leading = false
			}
			b.mu.Unlock()
			if more {
				go s.writePending(nil)
			}
			return
		}
	}
}

// writeBatch writes ops in one transaction; callers hold s.mu. A write
// whose caller has gone (its context ended) is skipped.
//
// The writes run one after the other without savepoints first (each
// savepoint makes SQLite keep a journal of its own in memory, which cost
// more than the writes): when one fails, the transaction is rolled back
// and the batch written again with each write in a savepoint, so that the
// failed one is undone alone. A write must therefore only run SQL on its
// transaction: it may run twice.
func (s *Store) writeBatch(ops []*writeOp) {
	ctx := context.Background() // one caller going must not undo the others' writes
	errs := make([]error, len(ops))
	finish := func(commitErr error) {
		for i, op := range ops {
			if errs[i] == nil {
				errs[i] = commitErr
			}
			if errs[i] == nil && op.after != nil {
				op.after()
			}
			op.done <- errs[i]
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	clear(s.txToolkits)
	failed := false
	for i, op := range ops {
		if errs[i] = op.ctx.Err(); errs[i] != nil {
			continue
		}
		if errs[i] = run(ctx, tx, op.fn); errs[i] != nil {
			failed = true
			break
		}
	}
	if !failed {
		finish(s.commit(tx))
		return
	}
	tx.Rollback()
	if len(ops) == 1 {
		finish(nil)
		return
	}
	clear(errs)
	if tx, err = s.db.BeginTx(ctx, nil); err != nil {
		finish(err)
		return
	}
	clear(s.txToolkits)
	for i, op := range ops {
		if errs[i] = op.ctx.Err(); errs[i] != nil {
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
	finish(s.commit(tx))
}

// writeStmts are the statements of the hot writes (an upload's), prepared
// once on the writer's connection (openWriteStmts); a transaction uses
// them through tx.StmtContext, so SQLite does not parse them each time.
type writeStmts struct {
	insertToolkit, updateToolkit, insertAction, insertJob, setActionJob, insertEvent *sql.Stmt
}

func (w *writeStmts) close() {
	for _, st := range []*sql.Stmt{w.insertToolkit, w.updateToolkit, w.insertAction, w.insertJob, w.setActionJob, w.insertEvent} {
		if st != nil {
			st.Close()
		}
	}
}

func (s *Store) openWriteStmts() error {
	var err error
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = s.db.Prepare(q)
		}
	}
	w := &s.wstmts
	prep(&w.insertToolkit, `INSERT INTO toolkits(plugin_id, name, build_number, source_sha256, source_size, artifact_sha256, artifact, installed, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	prep(&w.updateToolkit, `UPDATE toolkits SET name=?, build_number=?, source_sha256=?, source_size=?, artifact_sha256=?, artifact=?, updated=? WHERE id=?`)
	prep(&w.insertAction, `INSERT INTO actions(action_type, title, details, state, user_ref, start_time, end_time, failure_description, failure_action, failure_code, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	prep(&w.insertJob, `INSERT INTO jobs(action_id, action_type, title, target, target_name, state, percent, user_ref, start_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	prep(&w.setActionJob, `UPDATE actions SET job_id = ? WHERE id = ?`)
	prep(&w.insertEvent, `INSERT INTO job_events(job_id, seq, timestamp, message_code, details, action, event_type, percent, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		w.close()
	}
	return err
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
