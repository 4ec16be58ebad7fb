package models

import (
	"context"
	"database/sql"
	"time"
)

// EchoCopy pairs one of our sends with the message ingest stored from Meta's
// echo of it when the echo carried nothing to reconcile it on (Instagram's
// echoes carry no metadata). When to look for copies is the outbox's rule
// (jobs); this file only finds and folds them.
type EchoCopy struct {
	Send int64 // our queued or unknown message
	Echo int64 // the copy ingest stored as a message of its own
}

// echoCopyMatch is what makes a stored outbound message a copy of send m:
// same thread, kind and text, sent by nobody in Switchboard, already past
// queued, stored after m. $since bounds how early the copy may be stored.
const echoCopyMatch = `SELECT e.id FROM messages e WHERE e.thread_id = m.thread_id AND e.id > m.id
	AND e.direction = 'out' AND e.author_user_id IS NULL AND e.external_id IS NOT NULL AND e.status <> 'queued'
	AND e.kind = m.kind AND e.text = m.text`

// EchoCopiesOfStartedSends finds copies of the given queued sends whose
// claim began (their answer may be lost), stored from a minute before the
// claim on.
func (s *Store) EchoCopiesOfStartedSends(ctx context.Context, ids []int64) ([]EchoCopy, error) {
	return s.echoCopies(ctx, `SELECT m.id, e.id
		FROM unnest($1::bigint[]) AS v(id) JOIN messages m ON m.id = v.id
		JOIN outbox_sends o ON o.message_id = m.id AND o.started_at IS NOT NULL
		CROSS JOIN LATERAL (`+echoCopyMatch+` AND e.created_at >= o.started_at - interval '1 minute' ORDER BY e.id LIMIT 1) e
		WHERE m.direction = 'out' AND `+stillQueued+` AND m.external_id IS NULL`, ids)
}

// EchoCopyOfUnknownSend finds the copy of one of the business's sends
// marked unknown, stored after the send.
func (s *Store) EchoCopyOfUnknownSend(ctx context.Context, businessID, id int64) ([]EchoCopy, error) {
	return s.echoCopies(ctx, `SELECT m.id, e.id FROM messages m
		CROSS JOIN LATERAL (`+echoCopyMatch+` AND e.created_at >= m.created_at ORDER BY e.id LIMIT 1) e
		WHERE m.business_id = $1 AND m.id = $2 AND m.status = 'unknown' AND m.external_id IS NULL`, businessID, id)
}

// EchoCopiesByExternalID finds, for sends Meta just accepted as ext[i], the
// copy ingest stored under that id on the same channel before the answer
// was recorded.
func (s *Store) EchoCopiesByExternalID(ctx context.Context, ids []int64, ext []string) ([]EchoCopy, error) {
	return s.echoCopies(ctx, `SELECT o.id, d.id FROM unnest($1::bigint[], $2::text[]) AS v(id, ext)
		JOIN messages o ON o.id = v.id
		CROSS JOIN LATERAL (SELECT d.id FROM messages d WHERE d.channel_id = o.channel_id AND d.external_id = v.ext
			AND d.id <> o.id AND d.direction = 'out' AND d.author_user_id IS NULL AND d.status <> 'queued' LIMIT 1) d
		WHERE o.external_id IS NULL`, ids, ext)
}

func (s *Store) echoCopies(ctx context.Context, q string, args ...any) ([]EchoCopy, error) {
	rows, err := s.sqlQuery(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, "find echo copies of sends")
	}
	var out []EchoCopy
	err = scanRows(rows, func(r *sql.Rows) error {
		var c EchoCopy
		err := r.Scan(&c.Send, &c.Echo)
		out = append(out, c)
		return err
	})
	return out, wrapErr(err, "read echo copies of sends")
}

// MergeEchoCopies folds each copy into our send, in one transaction: the
// copy's statuses and provider id move to our message, its status too when
// further along than sent, the copy is deleted and the send's attempt ends.
func (s *Store) MergeEchoCopies(ctx context.Context, copies []EchoCopy) error {
	if len(copies) == 0 {
		return nil
	}
	sends, echoes := make([]int64, len(copies)), make([]int64, len(copies))
	for i, c := range copies {
		sends[i], echoes[i] = c.Send, c.Echo
	}
	return s.InTx(ctx, func(tx *Store) error {
		// Sends and copies locked first, in id order (lockMessages): the
		// merge below writes outbox_sends before messages in one statement.
		if err := tx.lockMessages(ctx, append(append([]int64{}, sends...), echoes...)); err != nil {
			return err
		}
		if _, err := tx.sqlExec(ctx, `INSERT INTO message_statuses (message_id, status, at, pricing)
			SELECT v.send, st.status, st.at, st.pricing
			FROM unnest($1::bigint[], $2::bigint[]) AS v(send, echo) JOIN message_statuses st ON st.message_id = v.echo
			ON CONFLICT DO NOTHING`, sends, echoes); err != nil {
			return wrapErr(err, "copy statuses of %d echo copies", len(copies))
		}
		// The copy goes first: its provider id is unique per channel.
		rows, err := tx.sqlQuery(ctx, `DELETE FROM messages e USING unnest($1::bigint[], $2::bigint[]) AS v(send, echo)
			WHERE e.id = v.echo RETURNING v.send, e.external_id, e.status, e.status_at`, sends, echoes)
		if err != nil {
			return wrapErr(err, "delete %d echo copies", len(copies))
		}
		var ids []int64
		var ext, status []string
		var at []time.Time
		err = scanRows(rows, func(r *sql.Rows) error {
			var id int64
			var e, st string
			var t time.Time
			err := r.Scan(&id, &e, &st, &t)
			ids, ext, status, at = append(ids, id), append(ext, e), append(status, st), append(at, t)
			return err
		})
		if err != nil {
			return wrapErr(err, "read deleted echo copies")
		}
		_, err = tx.sqlExec(ctx, `WITH v AS (
				SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS v(id, ext, status, at)
			), done AS (
				UPDATE outbox_sends o SET finished_at = clock_timestamp() FROM v WHERE o.message_id = v.id
			), upd AS (
				UPDATE messages m SET external_id = v.ext, status_at = v.at,
					status = CASE WHEN message_status_rank(v.status) > message_status_rank('sent') THEN v.status ELSE 'sent' END
				FROM v WHERE m.id = v.id AND m.status IN ('queued', 'unknown')
			), st AS (
				INSERT INTO message_statuses (message_id, status, at) SELECT id, 'sent', at FROM v ON CONFLICT DO NOTHING
			)
			SELECT pg_notify($5, json_build_object('t', 'status', 'b', m.business_id, 'th', m.thread_id, 'm', m.id)::text)
			FROM v JOIN messages m ON m.id = v.id`, ids, ext, status, at, InboxChannel)
		return wrapErr(err, "merge %d echo copies into their sends", len(ids))
	})
}
