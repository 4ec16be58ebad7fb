package web

import (
	"context"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// Outbox is the one way the web side sends: the policy check, the message
// row and the durable job, in one transaction (implemented by jobs.Outbox).
type Outbox interface {
	// Decisions is the policy answer for a free-form human reply now, one per
	// customer participant of the thread (what agents see before typing).
	Decisions(ctx context.Context, businessID, threadID int64) ([]policy.Decision, error)
	// Send queues a message, or returns *jobs.RefusedError / *jobs.InvalidError.
	Send(ctx context.Context, req jobs.SendRequest) (*models.Message, error)
	// Retry re-queues a failed or unknown outbound message (after a fresh policy check).
	Retry(ctx context.Context, businessID, messageID int64) (*models.Message, error)
}
