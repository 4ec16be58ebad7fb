package models

import "github.com/jackc/pgx/v5"

// Reads of the thread page that join its one round trip (ReadBatch).

// CannedResponses queues Store.CannedResponses: the business's saved
// replies by shortcut, for the thread page's composer.
func (rb *ReadBatch) CannedResponses(businessID int64) *[]CannedResponse {
	out := &[]CannedResponse{} // empty, not nil
	rb.batch.Queue(`SELECT id, business_id, shortcut, body FROM canned_responses
			WHERE business_id = $1 ORDER BY shortcut`, businessID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "list canned responses")
		}
		var c CannedResponse
		_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.BusinessID, &c.Shortcut, &c.Body}, func() error {
			*out = append(*out, c)
			return nil
		})
		return wrapErr(err, "list canned responses")
	})
	return out
}
