package jobs

import (
	"context"

	"github.com/switchboard-inbox/switchboard/models"
)

// BatchOnce handles one batch of a run, as the run's job does in a loop.
func (r *Restocker) BatchOnce(ctx context.Context, businessID, runID int64) (bool, error) {
	return r.batchOnce(ctx, restockArgs{BusinessID: businessID, RunID: runID})
}

// RecordOutcomes is the deliverer's write of a batch of send outcomes.
func RecordOutcomes(ctx context.Context, store *models.Store, app string, outcomes []models.SendOutcome) error {
	return recordOutcomes(ctx, store, app, outcomes)
}
