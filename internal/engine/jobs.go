package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// jobError is a failure a workflow reports to the user.
type jobError struct {
	Code, Message, Action string
}

func (e *jobError) Error() string { return e.Message }

func failf(action, format string, args ...any) error {
	return &jobError{Code: "exception.workflow.failed", Message: fmt.Sprintf(format, args...), Action: action}
}

// maxEventOutput bounds the command output quoted in a failure event.
const maxEventOutput = 16 << 10

// describeFailure turns a workflow error into the job's failure message,
// action and code.
func describeFailure(err error) (details, action, code string) {
	var pe *pluginhost.PluginError
	var je *jobError
	var ae *APIError
	var le *linkError
	switch {
	case errors.As(err, &le):
		details, _, code = describeFailure(le.err)
		return details, le.action, code
	case errors.As(err, &pe):
		details = pe.Message
		if pe.Operation != "" {
			details = fmt.Sprintf("The plugin operation %s() failed: %s", pe.Operation, pe.Message)
		}
		if out := strings.TrimSpace(pe.Output); out != "" {
			if len(out) > maxEventOutput {
				out = "..." + out[len(out)-maxEventOutput:]
			}
			details += "\nOutput:\n" + out
		}
		return details, pe.Action, "exception.plugin." + pe.Kind
	case errors.As(err, &je):
		return je.Message, je.Action, je.Code
	case errors.As(err, &ae):
		return ae.Details, ae.Action, ae.ID
	}
	return "The engine failed: " + err.Error(), "Look at the engine's log, then try again.", "exception.internal"
}

// startJob starts a job (jobs.Manager.Start) and answers the request with
// the job and action references and result as the OKResult's result.
func (e *Engine) startJob(w http.ResponseWriter, q *request, actionType, title, target, targetName, lockKey, result string,
	run func(ctx context.Context, j *jobs.Job) error) *APIError {
	jobRef, actRef, err := e.jobs.Start(jobs.Spec{ActionType: actionType, Title: title, Target: target, TargetName: targetName,
		LockKey: lockKey, UserRef: q.session.userRef}, run)
	if err != nil {
		return internalErr(err)
	}
	var res any = ""
	if result != "" {
		res = result
	}
	writeOK(w, res, strp(jobRef), strp(actRef))
	return nil
}
