package guard

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// writeRefusal writes a refusal as the engine's ErrorResult envelope.
func writeRefusal(w http.ResponseWriter, _ *http.Request, f *Refusal) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(engineapi.ErrorResult{Type: engineapi.TypeErrorResult, Status: "ERROR", Error: engineapi.APIError{
		Type: engineapi.TypeAPIError, Details: f.Details, Action: f.Action, ID: f.ID, Diagnoses: []string{},
	}})
	SetRetryAfter(w, f)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(f.Status)
	w.Write(buf.Bytes())
}

// SetRetryAfter sets the Retry-After header of a refusal that has one.
func SetRetryAfter(w http.ResponseWriter, f *Refusal) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
}
