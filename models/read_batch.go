package models

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReadBatch gathers reads a page needs so they reach PostgreSQL in one
// round trip (a pgx batch): queue them, Send, then use what they returned.
// Inside InTx the batch runs on the transaction's connection.
//
//	rb := store.NewReadBatch()
//	page := rb.Messages(businessID, threadID, "", 50)
//	notes := rb.Notes(businessID, threadID)
//	if err := rb.Send(ctx); err != nil { … }
type ReadBatch struct {
	q     querier
	batch pgx.Batch
	reads []func(pgx.BatchResults) error // each consumes its own statements' results, in queue order
	err   error                          // the first read that could not be queued
}

// NewReadBatch starts an empty batch of reads.
func (s *Store) NewReadBatch() *ReadBatch { return &ReadBatch{q: s.pgx()} }

// read runs one batch's worth of queued reads (what fill queues on it).
func (s *Store) read(ctx context.Context, fill func(rb *ReadBatch)) error {
	rb := s.NewReadBatch()
	fill(rb)
	return rb.Send(ctx)
}

// Send runs every queued read; their results are filled in when it returns nil.
func (rb *ReadBatch) Send(ctx context.Context) error {
	if rb.err != nil {
		return rb.err
	}
	if len(rb.reads) == 0 {
		return nil
	}
	br := rb.q.SendBatch(ctx, &rb.batch)
	for _, read := range rb.reads {
		if err := read(br); err != nil {
			_ = br.Close()
			return err
		}
	}
	return br.Close()
}

// fail keeps the first error of a read that could not be queued.
func (rb *ReadBatch) fail(err error) {
	if rb.err == nil {
		rb.err = err
	}
}

// Notes queues Store.Notes.
func (rb *ReadBatch) Notes(businessID, threadID int64) *[]Note {
	out := new([]Note)
	rb.batch.Queue(`SELECT id, business_id, thread_id, author_user_id, body, created_at FROM notes
		WHERE business_id = $1 AND thread_id = $2 ORDER BY created_at, id`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "list notes of thread %d", threadID)
		}
		*out = []Note{}
		var n Note
		_, err = pgx.ForEachRow(rows, []any{&n.ID, &n.BusinessID, &n.ThreadID, &n.AuthorUserID, &n.Body, &n.CreatedAt}, func() error {
			*out = append(*out, n)
			n.AuthorUserID = nil // a fresh pointer for the next row
			return nil
		})
		return wrapErr(err, "list notes of thread %d", threadID)
	})
	return out
}

// ThreadContacts queues the contacts behind a thread's current
// participants, each once, in participant order, at most 8 (a group's panel
// shows the first few): Store.Contact for each, with identities. The ids
// come from the thread itself: a statement with an id array parameter is
// re-planned on every call (its plan depends on the array's length).
func (rb *ReadBatch) ThreadContacts(businessID, threadID int64) *[]*Contact {
	out := new([]*Contact)
	const ids = `SELECT i.contact_id, min(p.n) AS n FROM (
			SELECT tp.identity_id, row_number() OVER (ORDER BY tp.joined_at, tp.identity_id) AS n
			FROM thread_participants tp JOIN threads t ON t.id = tp.thread_id
			WHERE t.business_id = $1 AND tp.thread_id = $2 AND tp.left_at IS NULL) p
		JOIN identities i ON i.id = p.identity_id
		GROUP BY i.contact_id ORDER BY n LIMIT 8`
	rb.batch.Queue(`SELECT c.id, c.business_id, c.name, c.phone, c.country, c.email, c.merged_into_id, c.created_at, c.updated_at
		FROM (`+ids+`) x JOIN contacts c ON c.id = x.contact_id WHERE c.business_id = $1 ORDER BY x.n`, businessID, threadID)
	rb.batch.Queue(`SELECT i.id, i.business_id, i.contact_id, i.channel_id, i.app, i.external_id, i.phone, i.bsuid, i.username,
			i.country, i.display_name, i.profile_pic_url, i.blocked_at, i.reported_at, i.marketing_opt_out_at,
			i.marketing_opt_out_via, i.created_at, i.updated_at
		FROM (`+ids+`) x JOIN identities i ON i.contact_id = x.contact_id WHERE i.business_id = $1 ORDER BY i.app, i.id`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "fetch contacts of thread %d", threadID)
		}
		byID := map[int64]*Contact{}
		for rows.Next() {
			c := &Contact{Identities: []Identity{}}
			if err := rows.Scan(&c.ID, &c.BusinessID, &c.Name, &c.Phone, &c.Country, &c.Email, &c.MergedIntoID,
				&c.CreatedAt, &c.UpdatedAt); err != nil {
				rows.Close()
				return wrapErr(err, "fetch contacts of thread %d", threadID)
			}
			byID[c.ID] = c
			*out = append(*out, c)
		}
		if err := rows.Err(); err != nil {
			return wrapErr(err, "fetch contacts of thread %d", threadID)
		}
		if rows, err = br.Query(); err != nil {
			return wrapErr(err, "load identities of contacts")
		}
		for rows.Next() {
			var i Identity
			if err := rows.Scan(&i.ID, &i.BusinessID, &i.ContactID, &i.ChannelID, &i.App, &i.ExternalID, &i.Phone,
				&i.BSUID, &i.Username, &i.Country, &i.DisplayName, &i.ProfilePicURL, &i.BlockedAt, &i.ReportedAt,
				&i.MarketingOptOutAt, &i.MarketingOptOutVia, &i.CreatedAt, &i.UpdatedAt); err != nil {
				rows.Close()
				return wrapErr(err, "load identities of contacts")
			}
			if c := byID[i.ContactID]; c != nil {
				c.Identities = append(c.Identities, i)
			}
		}
		return wrapErr(rows.Err(), "load identities of contacts")
	})
	return out
}

// RestockOptions is what a direct thread's "Notify me when it's back"
// shows: the business's products, those the thread's customer waits for,
// and how the thread's channel can ask (its app, and for Messenger
// whether the Page has One-Time Notifications).
type RestockOptions struct {
	Products []Product
	Waiting  []Product
	App      string // "" when the thread is not a direct one with a channel
	OTN      bool
}

const productColumns = `p.id, p.business_id, p.sku, p.name, p.url, p.image_url, p.stock, p.wa_template_name,
	p.wa_template_language, p.created_at, p.updated_at`

// RestockOptions queues a direct thread's RestockOptions (at most limit
// products, by name) as Store.Products, Store.IdentityWaiting and the
// thread's channel would give them, in the same round trip as the rest of
// the thread page: the thread's identity and channel come from the thread.
func (rb *ReadBatch) RestockOptions(businessID, threadID int64, limit int) *RestockOptions {
	out := &RestockOptions{Products: []Product{}, Waiting: []Product{}}
	rb.batch.Queue(`SELECT ch.app, ch.otn FROM threads t JOIN channels ch ON ch.id = t.channel_id AND ch.business_id = t.business_id
		WHERE t.business_id = $1 AND t.id = $2 AND t.kind = 'direct' AND t.direct_identity_id IS NOT NULL`, businessID, threadID)
	rb.batch.Queue(`SELECT `+productColumns+` FROM products p WHERE p.business_id = $1 ORDER BY p.name, p.id LIMIT $2`, businessID, limit)
	rb.batch.Queue(`SELECT `+productColumns+` FROM products p JOIN restock_waitlist w ON w.product_id = p.id
		WHERE w.business_id = $1 AND w.status IN ('waiting', 'skipped')
			AND w.identity_id = (SELECT direct_identity_id FROM threads WHERE business_id = $1 AND id = $2)
		ORDER BY w.created_at`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "read channel of thread %d", threadID)
		}
		_, err = pgx.ForEachRow(rows, []any{&out.App, &out.OTN}, func() error { return nil })
		if err != nil {
			return wrapErr(err, "read channel of thread %d", threadID)
		}
		for _, dst := range []*[]Product{&out.Products, &out.Waiting} {
			rows, err := br.Query()
			if err != nil {
				return wrapErr(err, "list products")
			}
			var p Product
			_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.BusinessID, &p.SKU, &p.Name, &p.URL, &p.ImageURL, &p.Stock,
				&p.WATemplateName, &p.WATemplateLanguage, &p.CreatedAt, &p.UpdatedAt}, func() error {
				*dst = append(*dst, p)
				return nil
			})
			if err != nil {
				return wrapErr(err, "list products")
			}
		}
		return nil
	})
	return out
}
