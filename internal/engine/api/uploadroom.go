package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// DefaultUploadWait is how long an upload waits for room among the uploads
// being received (Config.UploadWait).
const DefaultUploadWait = 30 * time.Second

// uploadRoom bounds the bytes of the uploads the engine receives at once:
// each is read into memory (its fields other than sourceCode, decoded and
// compiled) and a spool file, so that without a bound as many uploads as
// connections, each up to --max-upload-size, made the engine hold that
// many times the limit of memory and disk. An upload takes its size
// (Content-Length, or the limit when the body is chunked) before its body
// is read and gives it back when its request ends.
type uploadRoom struct {
	mu    sync.Mutex
	free  int64
	total int64
	freed chan struct{} // closed, and replaced, whenever room is given back
}

func newUploadRoom(total int64) *uploadRoom {
	return &uploadRoom{free: total, total: total, freed: make(chan struct{})}
}

// take waits until n bytes of room are free (at most the whole room) or
// ctx ends; it returns the function that gives them back, or nil.
func (u *uploadRoom) take(ctx context.Context, n int64) func() {
	n = min(max(n, 1), u.total)
	for {
		u.mu.Lock()
		if u.free >= n {
			u.free -= n
			u.mu.Unlock()
			return func() {
				u.mu.Lock()
				u.free += n
				close(u.freed)
				u.freed = make(chan struct{})
				u.mu.Unlock()
			}
		}
		ch := u.freed
		u.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

// takeUploadRoom holds the room of the upload r until the returned
// function is called, or refuses it (503) after Config.UploadWait.
func (srv *Server) takeUploadRoom(r *http.Request, limit int64) (func(), *APIError) {
	n := r.ContentLength
	if n <= 0 {
		n = limit + multipartSlack
	}
	wait := srv.cfg.UploadWait
	if wait <= 0 {
		wait = DefaultUploadWait
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	release := srv.uploadRoom.take(ctx, n)
	if release == nil {
		return nil, apiErr(http.StatusServiceUnavailable, "exception.upload.busy",
			fmt.Sprintf("The engine is receiving other uploads of %d MiB in all (twice --max-upload-size), and this one of %d MiB found no room within %s: it was not read.",
				srv.uploadRoom.total>>20, n>>20, wait),
			"Run dvp upload again in a moment, once the other uploads have ended.")
	}
	return release, nil
}
