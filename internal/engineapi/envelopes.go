package engineapi

import "encoding/json"

// Envelope types: every answer is one of them (docs/engine.md, "Endpoints").
const (
	TypeOKResult    = "OKResult"
	TypeDataResult  = "DataResult" // an OKResult that carries data
	TypeListResult  = "ListResult"
	TypeErrorResult = "ErrorResult"
	TypeAPIError    = "APIError"
)

// Envelope statuses.
const (
	StatusOK    = "OK"
	StatusError = "ERROR"
)

// OKResult is the envelope of a successful answer (Type OKResult or
// DataResult): the result, and the job and action a request started.
type OKResult[T any] struct {
	Type   string  `json:"type"`
	Status string  `json:"status"`
	Result T       `json:"result"`
	Job    *string `json:"job"`
	Action *string `json:"action"`
}

// ListResult is the envelope of a list.
type ListResult[T any] struct {
	Type     string  `json:"type"`
	Status   string  `json:"status"`
	Result   []T     `json:"result"`
	Job      *string `json:"job"`
	Action   *string `json:"action"`
	Total    int     `json:"total"`
	Overflow bool    `json:"overflow"`
}

// ErrorResult is the envelope of a failure.
type ErrorResult struct {
	Type   string   `json:"type"`
	Status string   `json:"status"`
	Error  APIError `json:"error"`
}

// APIError is the error object of an ErrorResult.
type APIError struct {
	Type          string   `json:"type"`
	Details       string   `json:"details"`
	Action        string   `json:"action"`
	ID            string   `json:"id"`
	CommandOutput *string  `json:"commandOutput"`
	Diagnoses     []string `json:"diagnoses"`
}

// Envelope is any answer as a client first decodes it: the type tells the
// envelope, the result and the error stay raw for the caller to decode.
type Envelope struct {
	Type   string          `json:"type"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Job    *string         `json:"job"`
	Action *string         `json:"action"`
	Error  json.RawMessage `json:"error"`
}
