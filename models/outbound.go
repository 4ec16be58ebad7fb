package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AddOutboundMessages queues many outbound messages at once (campaigns, relay
// legs and other bulk sends): one statement allocates their ids, inserts the
// rows, moves their threads' previews and queues their notifications (and one
// more adds attachments, when they have any). Call it inside InTx; ids are set
// on msgs.
func (s *Store) AddOutboundMessages(ctx context.Context, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	now := time.Now()
	for _, m := range msgs {
		if m.Details == nil {
			m.Details = JSON("{}")
		}
		if m.StatusAt.IsZero() {
			m.StatusAt = now
		}
	}
	if err := s.insertMessages(ctx, msgs); err != nil {
		return err
	}
	var atts []Attachment
	for _, m := range msgs {
		for i := range m.Attachments {
			m.Attachments[i].MessageID = m.ID
			atts = append(atts, m.Attachments[i])
		}
	}
	if len(atts) > 0 {
		if err := s.Gorm(ctx).Create(&atts).Error; err != nil {
			return wrapErr(err, "add attachments of queued messages")
		}
	}
	return nil
}

// insertMessages writes the rows, their threads' previews and their NOTIFYs
// with one statement of arrays (no per-row reflection, one round trip), and
// reads back the ids it took from the sequence, in the order of msgs.
func (s *Store) insertMessages(ctx context.Context, msgs []*Message) error {
	n := len(msgs)
	var (
		biz, threads               = make([]int64, n), make([]int64, n)
		channels, replies, authors = make([]*int64, n), make([]*int64, n), make([]*int64, n)
		dirs, apps, kinds, texts   = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		details, statuses, types   = make([]string, n), make([]string, n), make([]string, n)
		tags, reasons              = make([]string, n), make([]string, n)
		sentAt, statusAt           = make([]time.Time, n), make([]time.Time, n)
	)
	for i, m := range msgs {
		biz[i], threads[i], channels[i], replies[i], authors[i] = m.BusinessID, m.ThreadID, m.ChannelID, m.ReplyToID, m.AuthorUserID
		dirs[i], apps[i], kinds[i], texts[i], details[i] = m.Direction, m.App, m.Kind, m.Text, string(m.Details)
		statuses[i], types[i], tags[i], reasons[i], sentAt[i], statusAt[i] = m.Status, m.MessagingType, m.Tag, m.PolicyReason, m.SentAt, m.StatusAt
	}
	// The latest message per thread sets its preview; one row per thread, as
	// UPDATE … FROM applies only one source row to each target.
	latest := make(map[int64]*Message, len(msgs))
	for _, m := range msgs {
		if l := latest[m.ThreadID]; l == nil || !m.SentAt.Before(l.SentAt) {
			latest[m.ThreadID] = m
		}
	}
	var threadIDs []int64
	var previews []string
	var ats []time.Time
	for id, m := range latest {
		threadIDs, previews, ats = append(threadIDs, id), append(previews, Preview(m)), append(ats, m.SentAt)
	}
	// v is referenced several times and calls nextval, so PostgreSQL
	// materialises it once: the inserted rows, the notifications and the
	// returned ids agree. The final SELECT reads n so that its NOTIFYs run.
	rows, err := s.sqlQuery(ctx, `WITH v AS (
			SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, x.*
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
				$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
				$15::timestamptz[], $16::timestamptz[])
				WITH ORDINALITY AS x(b, t, c, r, a, dir, app, kind, text, d, st, mt, tag, pr, sa, sta, ord)
		), ins AS (
			INSERT INTO messages (id, business_id, thread_id, channel_id, reply_to_id, author_user_id,
				direction, app, kind, text, details, status, messaging_type, tag, policy_reason, sent_at, status_at)
			SELECT id, b, t, c, r, a, dir, app, kind, text, d::jsonb, st, mt, tag, pr, sa, sta FROM v
		), upd AS (
			UPDATE threads th SET last_message_preview = u.preview, last_message_direction = 'out',
				last_message_at = GREATEST(th.last_message_at, u.at), updated_at = now()
			FROM unnest($17::bigint[], $18::text[], $19::timestamptz[]) AS u(id, preview, at)
			WHERE th.id = u.id AND (th.last_message_preview = '' OR u.at >= th.last_message_at)
		), n AS (
			SELECT pg_notify($20, json_build_object('t', 'message', 'b', b, 'th', t, 'm', id)::text) FROM v
		)
		SELECT v.id, (SELECT count(*) FROM n) FROM v ORDER BY v.ord`,
		biz, threads, channels, replies, authors, dirs, apps, kinds, texts, details, statuses, types, tags, reasons, sentAt, statusAt,
		threadIDs, previews, ats, InboxChannel)
	if err != nil {
		return wrapErr(err, "queue %d messages", n)
	}
	i := 0
	err = scanRows(rows, func(r *sql.Rows) error {
		var notified int64
		if i >= n {
			return fmt.Errorf("models: %d ids for %d messages", i+1, n)
		}
		err := r.Scan(&msgs[i].ID, &notified)
		i++
		return err
	})
	if err == nil && i != n {
		err = fmt.Errorf("models: %d ids for %d messages", i, n)
	}
	return wrapErr(err, "queue %d messages", n)
}

// ReserveOTNToken promises an unused token to a queued message; false means
// another message has it already. Call it inside the InTx that queued the
// message, after SendContexts locked the tokens.
func (s *Store) ReserveOTNToken(ctx context.Context, tokenID, messageID int64) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE otn_tokens SET used_by_message_id = ?
		WHERE id = ? AND used_at IS NULL AND used_by_message_id IS NULL`, messageID, tokenID)
	return res.RowsAffected == 1, wrapErr(res.Error, "reserve OTN token %d", tokenID)
}

// Requeue is a failed or unknown message's new decision, for a retry.
type Requeue struct {
	MessagingType string
	Tag           string
	PolicyReason  string
	Details       JSON
	At            time.Time
}

// RequeueUnsent puts one of the business's failed or unknown outbound
// messages back in the queue with a fresh decision, forgetting the earlier
// attempts: an agent's "retry" or "send again". It reports false when the
// message is not (or no longer) failed or unknown; a late echo that
// reconciled an unknown send wins over the agent's click.
func (s *Store) RequeueUnsent(ctx context.Context, businessID, id int64, r Requeue) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE messages SET status = 'queued', status_at = ?, external_id = NULL,
			error_code = NULL, error_title = '', messaging_type = ?, tag = ?, policy_reason = ?, details = ?, attempts = 0
		WHERE business_id = ? AND id = ? AND direction = 'out' AND (status = 'failed' OR (status = 'unknown' AND external_id IS NULL))`,
		r.At, r.MessagingType, r.Tag, r.PolicyReason, r.Details, businessID, id)
	if res.Error != nil {
		return false, wrapErr(res.Error, "requeue message %d", id)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := s.Gorm(ctx).Exec(`DELETE FROM message_statuses WHERE message_id = ? AND status IN ('failed', 'unknown')`, id).Error; err != nil {
		return false, wrapErr(err, "forget failure of message %d", id)
	}
	if err := s.Gorm(ctx).Exec(`DELETE FROM outbox_sends WHERE message_id = ?`, id).Error; err != nil {
		return false, wrapErr(err, "forget attempts of message %d", id)
	}
	var threadID int64
	if err := s.Gorm(ctx).Raw(`SELECT thread_id FROM messages WHERE id = ?`, id).Scan(&threadID).Error; err != nil {
		return false, wrapErr(err, "fetch thread of message %d", id)
	}
	return true, s.Notify(ctx, Event{Type: "status", BusinessID: businessID, ThreadID: threadID, MessageID: id})
}
