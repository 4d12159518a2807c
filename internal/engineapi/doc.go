// Package engineapi is the engine's REST contract, shared by the server
// (internal/engine) and its client (internal/engineclient): the objects the
// API serves, the request bodies it accepts, the envelopes every answer
// comes in, the job and action objects, the reference prefixes and the
// resource paths. It holds types and pure helpers only: no HTTP, no I/O.
//
// The JSON of every type here is what goes on the wire, field order
// included: the engine encodes these structs, and clients compare answers
// byte for byte (docs/engine.md describes the resources; docs/upload.md
// the requests dvp sends).
package engineapi
