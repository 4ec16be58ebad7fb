package models

import (
	"context"
	"time"
)

// Waitlist entry states (the contract's; "failed" is a notified entry whose
// message failed, read from the message; a notified entry also shows its
// message's "unknown", "delivered" or "read").
const (
	WaitlistWaiting   = "waiting"
	WaitlistNotified  = "notified"
	WaitlistSkipped   = "skipped"
	WaitlistCancelled = "cancelled"
	WaitlistFailed    = "failed"
)

// RestockWaitlist is one "notify me when it's back" sign-up.
type RestockWaitlist struct {
	ID         int64
	BusinessID int64
	ProductID  int64
	IdentityID int64
	Source     string // postback, quick_reply, button, referral, otn_optin, agent, staff
	Status     string `gorm:"default:waiting"`
	Reason     string // why the last run skipped it
	ThreadID   *int64
	OTNTokenID *int64
	RunID      *int64 // the run that last handled it
	CreatedBy  *int64
	CreatedAt  time.Time
	NotifiedAt *time.Time
	HandledAt  *time.Time
	MessageID  *int64
}

// TableName is the singular table name of the waitlist.
func (RestockWaitlist) TableName() string { return "restock_waitlist" }

// Join is one customer asking to hear when a product is back.
type Join struct {
	BusinessID, ProductID, IdentityID int64
	ThreadID                          *int64
	OTNTokenID                        *int64
	Source                            string
	CreatedBy                         *int64
	At                                time.Time // when the customer asked (Meta's time); zero means now
}

// JoinWaitlist adds the customer to the product's waitlist once: while an
// entry is open, joining again returns it (created false), keeping the OTN
// token of a later opt-in if it had none. ErrNotFound when the identity is
// not the business's.
func (s *Store) JoinWaitlist(ctx context.Context, j Join) (e *RestockWaitlist, created bool, err error) {
	if j.At.IsZero() {
		j.At = time.Now()
	}
	var rows []RestockWaitlist
	err = s.Gorm(ctx).Raw(`INSERT INTO restock_waitlist (business_id, product_id, identity_id, thread_id, otn_token_id, source, created_by, created_at)
		SELECT i.business_id, p.id, i.id, COALESCE(?, (SELECT t.id FROM threads t WHERE t.direct_identity_id = i.id AND t.kind = 'direct' ORDER BY t.id LIMIT 1)), ?, ?, ?, ?
		FROM identities i JOIN products p ON p.id = ? AND p.business_id = i.business_id
		WHERE i.id = ? AND i.business_id = ?
		ON CONFLICT (product_id, identity_id) WHERE status IN ('waiting', 'skipped') DO NOTHING
		RETURNING *`, j.ThreadID, j.OTNTokenID, j.Source, j.CreatedBy, j.At, j.ProductID, j.IdentityID, j.BusinessID).Scan(&rows).Error
	if err != nil {
		return nil, false, wrapErr(err, "join waitlist of product %d", j.ProductID)
	}
	if len(rows) == 1 {
		return &rows[0], true, s.Notify(ctx, Event{Type: EventWaitlist, BusinessID: j.BusinessID, ProductID: j.ProductID})
	}
	var open RestockWaitlist
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND product_id = ? AND identity_id = ? AND status IN ('waiting', 'skipped')",
		j.BusinessID, j.ProductID, j.IdentityID), &open)
	if err != nil {
		return nil, false, wrapErr(err, "fetch waitlist entry")
	}
	if !ok {
		return nil, false, ErrNotFound // no such identity or product in this business
	}
	if j.OTNTokenID != nil && open.OTNTokenID == nil {
		open.OTNTokenID = j.OTNTokenID
		if err := s.Gorm(ctx).Model(&open).Update("otn_token_id", j.OTNTokenID).Error; err != nil {
			return nil, false, wrapErr(err, "keep OTN token of entry %d", open.ID)
		}
	}
	return &open, false, nil
}

// WaitlistEntry is an entry as staff and the API see it.
type WaitlistEntry struct {
	ID          int64      `json:"id"`
	IdentityID  int64      `json:"identity_id"`
	ContactID   int64      `json:"contact_id"`
	App         string     `json:"app"`
	Name        string     `json:"name"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	Source      string     `json:"source"`
	CreatedAt   time.Time  `json:"created_at"`
	NotifiedAt  *time.Time `json:"notified_at"`
	MessageID   *int64     `json:"message_id"`
	ThreadID    *int64     `json:"-"`
	HasOTNToken bool       `json:"-"`
	// CapRetry is the alert's one retry after Meta's marketing cap (131049):
	// "", "scheduled" or "retried"; CapRetryAt when it is due.
	CapRetry   string     `json:"cap_retry,omitempty"`
	CapRetryAt *time.Time `json:"-"`
}

// CanSendAgain says whether the entry's alert may be sent again by hand: it
// failed, or it ended unknown (it may have reached Meta, so it is never
// resent on its own).
func (e *WaitlistEntry) CanSendAgain() bool {
	return e.MessageID != nil && (e.Status == WaitlistFailed || e.Status == StatusUnknown)
}

// Waitlist lists a product's entries, open ones first (oldest first), then
// the handled ones newest first, at most limit.
func (s *Store) Waitlist(ctx context.Context, businessID, productID int64, limit int) ([]WaitlistEntry, error) {
	var out []WaitlistEntry
	err := s.Gorm(ctx).Raw(`SELECT w.id, w.identity_id, i.contact_id, i.app,
			COALESCE(NULLIF(i.display_name, ''), NULLIF(c.name, ''), i.external_id) AS name,
			CASE WHEN w.status = 'notified' AND m.status IN ('failed', 'unknown', 'delivered', 'read', 'played') THEN
				CASE m.status WHEN 'played' THEN 'read' ELSE m.status END ELSE w.status END AS status,
			CASE WHEN w.status = 'notified' AND m.status = 'failed' THEN COALESCE(NULLIF(w.reason, ''), m.error_code::text, '') ELSE w.reason END AS reason,
			CASE WHEN w.cap_retried_at IS NOT NULL THEN 'retried' WHEN w.cap_retry_at IS NOT NULL THEN 'scheduled' ELSE '' END AS cap_retry,
			w.cap_retry_at,
			w.source, w.created_at, w.notified_at, w.message_id, w.thread_id, w.otn_token_id IS NOT NULL AS has_otn_token
		FROM restock_waitlist w
		JOIN identities i ON i.id = w.identity_id
		JOIN contacts c ON c.id = i.contact_id
		LEFT JOIN messages m ON m.id = w.message_id
		WHERE w.business_id = ? AND w.product_id = ?
		ORDER BY (w.status IN ('waiting', 'skipped')) DESC,
			CASE WHEN w.status IN ('waiting', 'skipped') THEN extract(epoch FROM w.created_at) ELSE -extract(epoch FROM COALESCE(w.handled_at, w.created_at)) END, w.id
		LIMIT ?`, businessID, productID, limit).Scan(&out).Error
	return out, wrapErr(err, "list waitlist of product %d", productID)
}

// WaitlistEntryByID loads one entry of the business as the API shows it.
func (s *Store) WaitlistEntryByID(ctx context.Context, businessID, productID, id int64) (*WaitlistEntry, error) {
	all, err := s.Waitlist(ctx, businessID, productID, 100000)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, nil
}

// OpenWaitlistCount counts the entries a run would handle.
func (s *Store) OpenWaitlistCount(ctx context.Context, productID int64) (int, error) {
	var n int
	err := s.Gorm(ctx).Raw(`SELECT count(*) FROM restock_waitlist WHERE product_id = ? AND status IN ('waiting', 'skipped')`, productID).Scan(&n).Error
	return n, wrapErr(err, "count waitlist of product %d", productID)
}

// IdentityWaiting lists the products the identity waits for (for the thread).
func (s *Store) IdentityWaiting(ctx context.Context, businessID, identityID int64) ([]Product, error) {
	var ps []Product
	err := s.Gorm(ctx).Raw(`SELECT p.* FROM products p JOIN restock_waitlist w ON w.product_id = p.id
		WHERE w.business_id = ? AND w.identity_id = ? AND w.status IN ('waiting', 'skipped') ORDER BY w.created_at`, businessID, identityID).
		Scan(&ps).Error
	return ps, wrapErr(err, "list products identity %d waits for", identityID)
}

// ProductOfAlert is the product whose restock alert the message is; 0 when
// it is none.
func (s *Store) ProductOfAlert(ctx context.Context, businessID, messageID int64) (int64, error) {
	var id int64
	err := s.Gorm(ctx).Raw(`SELECT product_id FROM restock_waitlist WHERE business_id = ? AND message_id = ? LIMIT 1`,
		businessID, messageID).Scan(&id).Error
	return id, wrapErr(err, "find product of alert %d", messageID)
}

// JoinAllDirect puts every customer of the business with a direct thread on
// the product's waitlist (the reliability bench's crowd); it returns how many joined.
func (s *Store) JoinAllDirect(ctx context.Context, businessID, productID int64, source string) (int, error) {
	res := s.Gorm(ctx).Exec(`INSERT INTO restock_waitlist (business_id, product_id, identity_id, thread_id, source, created_at)
		SELECT t.business_id, p.id, t.direct_identity_id, t.id, ?, now()
		FROM threads t JOIN products p ON p.id = ? AND p.business_id = t.business_id
		WHERE t.business_id = ? AND t.kind = 'direct' AND t.direct_identity_id IS NOT NULL
		ON CONFLICT (product_id, identity_id) WHERE status IN ('waiting', 'skipped') DO NOTHING`, source, productID, businessID)
	return int(res.RowsAffected), wrapErr(res.Error, "join everyone to the waitlist of product %d", productID)
}
