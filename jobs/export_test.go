package jobs

import "context"

// BatchOnce handles one batch of a run, as the run's job does in a loop.
func (r *Restocker) BatchOnce(ctx context.Context, businessID, runID int64) (bool, error) {
	return r.batchOnce(ctx, restockArgs{BusinessID: businessID, RunID: runID})
}
