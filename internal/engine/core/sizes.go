// The plugin operations the engine calls on its own (docs/workflows.md,
// "The operations the engine calls on its own, against a Delphix Engine"): source_size after the workflows that change a
// container's data, and linked.worker at an interval for enabled STAGED
// dSources. Their failures are recorded on the container and as events,
// never fatal.

package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// DefaultWorkerInterval is how often linked.worker runs when Config says
// nothing.
const DefaultWorkerInterval = time.Minute

// measure asks the plugin the size of the container's dataset
// (linked.source_size or virtual.source_size) and records it, or why it
// could not; a plugin without the operation leaves the size unknown.
func (w *wf) measure(ctx context.Context) {
	op := "virtual.source_size"
	var in map[string]any
	var err error
	switch {
	case w.c.ContainerType == engineapi.ContainerVDB:
		in, err = w.virtualIn(ctx)
	case w.c.PluginType == protocol.PluginTypeDirect:
		op = "linked.source_size"
		var ds map[string]any
		if ds, err = w.directSource(ctx); err == nil {
			in = map[string]any{"direct_source": ds, "repository": w.repo.Parameters, "source_config": w.sc.Parameters}
		}
	default:
		op = "linked.source_size"
		in, err = w.linkedIn(ctx)
	}
	if !w.run.HasOp(op) {
		return
	}
	var size int64
	if err == nil {
		err = w.run.Call(ctx, op, in, &size)
	}
	if err == nil && size < 0 {
		err = fmt.Errorf("%s() returned %d, not a size in bytes", op, size)
	}
	if err != nil {
		details, _, _ := describeFailure(err)
		w.c.SizeError = details
		w.j.Event("event.size.failed", fmt.Sprintf("The size of %s is unknown: %s", w.c.Name, details), nil, "WARNING", "RUNNING")
	} else {
		w.c.Size, w.c.SizeError = &size, ""
		w.j.Info("event.size", fmt.Sprintf("%s holds %d bytes (%s).", w.c.Name, size, op))
	}
	if err := w.save(ctx); err != nil {
		w.j.Event("event.size.failed", fmt.Sprintf("Could not record the size of %s: %v", w.c.Name, err), nil, "WARNING", "RUNNING")
	}
}

// workers runs linked.worker for the enabled STAGED dSources every
// interval until stop is closed; one worker job per dSource at a time.
type workers struct {
	e        *Engine
	interval time.Duration
	stop     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	running  map[string]bool
}

// StartWorkers starts running linked.worker every interval (0: never)
// until Stop.
func (e *Engine) StartWorkers(interval time.Duration) {
	if interval <= 0 {
		return
	}
	e.workers = &workers{e: e, interval: interval, stop: make(chan struct{}), running: map[string]bool{}}
	done := e.jobs.Track()
	go func() {
		defer done()
		e.workers.loop()
	}()
}

func (ws *workers) close() {
	if ws != nil {
		ws.once.Do(func() { close(ws.stop) })
	}
}

func (ws *workers) loop() {
	t := time.NewTicker(ws.interval)
	defer t.Stop()
	for {
		select {
		case <-ws.stop:
			return
		case <-t.C:
			ws.tick()
		}
	}
}

// tick starts a worker job for each enabled STAGED dSource whose plugin
// has linked.worker and whose previous worker job ended.
func (ws *workers) tick() {
	ctx := context.Background()
	cs, err := store.ListAs[engineapi.Container](ctx, ws.e.store, store.KindContainer, "")
	if err != nil {
		ws.e.cfg.Log.Error("listing the dSources for their workers", "error", err)
		return
	}
	for _, c := range cs {
		if c.ContainerType != engineapi.ContainerDSource || c.PluginType != protocol.PluginTypeStaged || !c.Enabled {
			continue
		}
		t, err := ws.e.store.ToolkitByRef(ctx, c.Toolkit)
		if err != nil || t == nil {
			continue
		}
		if a, err := t.Artifact(); err != nil || !a.Manifest.HasLinkedWorker {
			continue
		}
		ws.mu.Lock()
		busy := ws.running[c.Reference]
		ws.running[c.Reference] = true
		ws.mu.Unlock()
		if busy {
			continue
		}
		ref, name := c.Reference, c.Name
		_, err = ws.e.startJob(Caller{}, "DB_WORKER", fmt.Sprintf("Worker of dSource %q", name), ref, name, ref, ref,
			func(ctx context.Context, j *jobs.Job) error {
				defer func() {
					ws.mu.Lock()
					delete(ws.running, ref)
					ws.mu.Unlock()
				}()
				return ws.e.containerJob(ctx, j, ref, func(w *wf) error { return w.work(ctx) })
			})
		if err != nil {
			ws.mu.Lock()
			delete(ws.running, ref)
			ws.mu.Unlock()
			ws.e.cfg.Log.Error("starting a worker", "dsource", name, "error", err)
		}
	}
}

// work runs linked.worker once and records when, and how it failed.
func (w *wf) work(ctx context.Context) error {
	if !w.c.Enabled { // disabled while the job waited
		return nil
	}
	in, err := w.linkedIn(ctx)
	if err == nil {
		err = w.run.Call(ctx, "linked.worker", in, nil)
	}
	w.c.WorkerRun = store.FormatTime(w.e.cfg.Clock())
	w.c.WorkerError = ""
	if err != nil {
		details, _, _ := describeFailure(err)
		w.c.WorkerError = details
	}
	if serr := w.save(ctx); serr != nil {
		return serr
	}
	return err // a failure fails this job only: the next tick runs it again
}
