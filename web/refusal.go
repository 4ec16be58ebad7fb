package web

import (
	"errors"

	"github.com/switchboard-inbox/switchboard/jobs"
)

// refusalKey is the catalogue key explaining why the outbox refused, when it did.
func refusalKey(err error) (string, bool) {
	var refused *jobs.RefusedError
	if errors.As(err, &refused) {
		return "reason." + string(refused.Decision.Reason), true
	}
	var invalid *jobs.InvalidError
	if errors.As(err, &invalid) {
		return "error.bad_input", true
	}
	return "", false
}
