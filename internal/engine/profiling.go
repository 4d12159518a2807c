package engine

// startProfiling starts the engine's profiling endpoint when the binary is
// built with the dvppprof build tag (profiling_on.go; make load's
// profiling run, docs/performance.md). A dvp built without the tag, as
// make build and releases build it, has no such endpoint: this does
// nothing.
var startProfiling = func(e *Engine) {}
