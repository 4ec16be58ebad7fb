package models

import (
	"context"
	"database/sql"
	"time"
)

// AdvanceStatuses applies many delivery statuses of messages named by their
// channel and Meta id, as AdvanceStatus does one at a time, in a few
// statements: each (message, status) is recorded once (the first wins), and
// each message moves forward only, to its furthest status of the batch, at
// the time Meta gave that status first. Failed statuses and statuses that
// name our message id are not for this path (AdvanceStatus handles them).
// It returns the messages whose status moved, for the caller to notify.
func (s *Store) AdvanceStatuses(ctx context.Context, us []StatusUpdate) ([]StatusResult, error) {
	if len(us) == 0 {
		return nil, nil
	}
	type key struct {
		ch  int64
		ext string
	}
	best := map[key]int{}
	var order []key
	n := len(us)
	chs, exts, sts, ats, pricing := make([]int64, n), make([]string, n), make([]string, n), make([]time.Time, n), make([]*string, n)
	for i, u := range us {
		chs[i], exts[i], sts[i], ats[i] = u.ChannelID, u.ExternalID, u.Status, u.At
		if u.Pricing != nil {
			p := string(u.Pricing)
			pricing[i] = &p
		}
		k := key{u.ChannelID, u.ExternalID}
		b, ok := best[k]
		if !ok {
			order = append(order, k)
			best[k] = i
		} else if statusRank(u.Status) > statusRank(us[b].Status) {
			best[k] = i
		}
	}
	// The messages' locks first, in id order, as every batch writer takes them
	// (lockMessages); the statements after touch only those, in that order,
	// so two webhook batches naming the same messages never deadlock.
	var locked []int64
	lrows, err := s.sqlQuery(ctx, `SELECT m.id FROM unnest($1::bigint[], $2::text[]) AS v(ch, ext)
		JOIN messages m ON m.channel_id = v.ch AND m.external_id = v.ext ORDER BY m.id FOR NO KEY UPDATE OF m`, chs, exts)
	if err == nil {
		err = scanRows(lrows, func(r *sql.Rows) error {
			var id int64
			err := r.Scan(&id)
			locked = append(locked, id)
			return err
		})
	}
	if err != nil {
		return nil, wrapErr(err, "lock messages of %d statuses", n)
	}
	if len(locked) == 0 {
		return nil, nil
	}
	if _, err := s.sqlExec(ctx, `INSERT INTO message_statuses (message_id, status, at, pricing)
		SELECT m.id, v.st, v.at, v.p::jsonb
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) WITH ORDINALITY AS v(ch, ext, st, at, p, ord)
		JOIN messages m ON m.channel_id = v.ch AND m.external_id = v.ext
		WHERE m.id = ANY($6)
		ORDER BY m.id, v.ord
		ON CONFLICT DO NOTHING`, chs, exts, sts, ats, pricing, locked); err != nil {
		return nil, wrapErr(err, "record %d statuses", n)
	}
	bc, be, bs, ba := make([]int64, len(order)), make([]string, len(order)), make([]string, len(order)), make([]time.Time, len(order))
	for i, k := range order {
		u := us[best[k]]
		bc[i], be[i], bs[i], ba[i] = u.ChannelID, u.ExternalID, u.Status, u.At
	}
	rows, err := s.sqlQuery(ctx, `UPDATE messages m SET status = v.st, status_at = v.at
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS v(ch, ext, st, at)
		WHERE m.channel_id = v.ch AND m.external_id = v.ext AND m.status <> 'failed' AND m.id = ANY($5)
			AND message_status_rank(m.status) < message_status_rank(v.st)
		RETURNING m.id, m.thread_id, m.business_id`, bc, be, bs, ba, locked)
	if err != nil {
		return nil, wrapErr(err, "advance %d messages", len(order))
	}
	var out []StatusResult
	err = scanRows(rows, func(r *sql.Rows) error {
		res := StatusResult{Found: true, Changed: true}
		err := r.Scan(&res.MessageID, &res.ThreadID, &res.BusinessID)
		out = append(out, res)
		return err
	})
	return out, wrapErr(err, "read advanced messages")
}

// statusRank mirrors the schema's message_status_rank for the statuses a
// webhook reports.
func statusRank(s string) int {
	switch s {
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	case "played":
		return 5
	}
	return -1
}
