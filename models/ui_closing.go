package models

import (
	"context"
	"time"
)

// FreeReplyWindow is how long after the customer's last message a free-form
// reply is possible on every app.
const FreeReplyWindow = 24 * time.Hour

// ClosingThreads lists the business's open threads that can still get a
// free-form reply, the one whose window closes first first. It needs no
// index of its own: last_customer_at never exceeds last_message_at, so the
// bound on last_message_at lets threads_inbox narrow the scan to the last
// day's activity before the sort.
func (s *Store) ClosingThreads(ctx context.Context, businessID int64, now time.Time, limit int) ([]Thread, error) {
	return s.closingThreads(ctx, businessID, now, limit, false)
}
