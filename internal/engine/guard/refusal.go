package guard

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeRefusal writes a refusal as an ErrorResult envelope; the engine
// gives its own writer in Config.Refuse.
func writeRefusal(w http.ResponseWriter, _ *http.Request, f *Refusal) {
	body, _ := json.Marshal(map[string]any{
		"type": "ErrorResult", "status": "ERROR",
		"error": map[string]any{"type": "APIError", "details": f.Details, "action": f.Action, "id": f.ID, "commandOutput": nil, "diagnoses": []string{}},
	})
	SetRetryAfter(w, f)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(f.Status)
	w.Write(append(body, '\n'))
}

// SetRetryAfter sets the Retry-After header of a refusal that has one.
func SetRetryAfter(w http.ResponseWriter, f *Refusal) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
}
