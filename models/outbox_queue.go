package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// sqlExec runs hand-written SQL ($n placeholders) on the store's connection,
// the transaction inside InTx, so that pgx encodes Go slices as arrays.
func (s *Store) sqlExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.Gorm(ctx).Statement.ConnPool.ExecContext(ctx, q, args...)
}

func (s *Store) sqlQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.Gorm(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
}

// AddOutboundMessages queues many outbound messages at once (campaigns and
// other bulk sends): one multi-row INSERT, one UPDATE of their threads and one
// round of notifications. Call it inside InTx; ids are set on msgs.
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
	if _, err := s.sqlExec(ctx, `UPDATE threads t SET last_message_preview = v.preview, last_message_direction = 'out',
			last_message_at = GREATEST(t.last_message_at, v.at), updated_at = now()
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS v(id, preview, at)
		WHERE t.id = v.id AND (t.last_message_preview = '' OR v.at >= t.last_message_at)`,
		threadIDs, previews, ats); err != nil {
		return wrapErr(err, "update threads of queued messages")
	}
	events := make([]string, len(msgs))
	for i, m := range msgs {
		b, _ := json.Marshal(Event{Type: "message", BusinessID: m.BusinessID, ThreadID: m.ThreadID, MessageID: m.ID})
		events[i] = string(b)
	}
	return s.notifyAll(ctx, events)
}

// insertMessages writes the rows with one statement of arrays (no per-row
// reflection), taking their ids from the sequence first.
func (s *Store) insertMessages(ctx context.Context, msgs []*Message) error {
	rows, err := s.sqlQuery(ctx, `SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)`, len(msgs))
	if err != nil {
		return wrapErr(err, "allocate %d message ids", len(msgs))
	}
	i := 0
	err = scanRows(rows, func(r *sql.Rows) error {
		err := r.Scan(&msgs[i].ID)
		i++
		return err
	})
	if err != nil {
		return wrapErr(err, "read message ids")
	}
	n := len(msgs)
	var (
		ids, biz, threads          = make([]int64, n), make([]int64, n), make([]int64, n)
		channels, replies, authors = make([]*int64, n), make([]*int64, n), make([]*int64, n)
		dirs, apps, kinds, texts   = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		details, statuses, types   = make([]string, n), make([]string, n), make([]string, n)
		tags, reasons              = make([]string, n), make([]string, n)
		sentAt, statusAt           = make([]time.Time, n), make([]time.Time, n)
	)
	for i, m := range msgs {
		ids[i], biz[i], threads[i], channels[i], replies[i], authors[i] = m.ID, m.BusinessID, m.ThreadID, m.ChannelID, m.ReplyToID, m.AuthorUserID
		dirs[i], apps[i], kinds[i], texts[i], details[i] = m.Direction, m.App, m.Kind, m.Text, string(m.Details)
		statuses[i], types[i], tags[i], reasons[i], sentAt[i], statusAt[i] = m.Status, m.MessagingType, m.Tag, m.PolicyReason, m.SentAt, m.StatusAt
	}
	_, err = s.sqlExec(ctx, `INSERT INTO messages (id, business_id, thread_id, channel_id, reply_to_id, author_user_id,
			direction, app, kind, text, details, status, messaging_type, tag, policy_reason, sent_at, status_at)
		SELECT id, b, t, c, r, a, dir, app, kind, text, d::jsonb, st, mt, tag, pr, sa, sta
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
			$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
			$16::timestamptz[], $17::timestamptz[])
			AS v(id, b, t, c, r, a, dir, app, kind, text, d, st, mt, tag, pr, sa, sta)`,
		ids, biz, threads, channels, replies, authors, dirs, apps, kinds, texts, details, statuses, types, tags, reasons, sentAt, statusAt)
	return wrapErr(err, "queue %d messages", n)
}

// notifyAll queues many NOTIFY payloads in one statement.
func (s *Store) notifyAll(ctx context.Context, payloads []string) error {
	if len(payloads) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, InboxChannel, payloads)
	return wrapErr(err, "notify %d events", len(payloads))
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

// MessageInThread reports whether the business's message id is in the thread
// (a reply must quote a message of its own conversation).
func (s *Store) MessageInThread(ctx context.Context, businessID, threadID, id int64) (bool, error) {
	var n int64
	err := s.Gorm(ctx).Model(&Message{}).Where("business_id = ? AND thread_id = ? AND id = ?", businessID, threadID, id).Count(&n).Error
	return n > 0, wrapErr(err, "find message %d in thread %d", id, threadID)
}

// SetUserReaction records (or, with an empty emoji, removes) an agent's reaction.
func (s *Store) SetUserReaction(ctx context.Context, messageID, userID int64, emoji string, at time.Time) error {
	if emoji == "" {
		err := s.Gorm(ctx).Exec(`DELETE FROM reactions WHERE message_id = ? AND user_id = ?`, messageID, userID).Error
		return wrapErr(err, "remove reaction on message %d", messageID)
	}
	err := s.Gorm(ctx).Exec(`INSERT INTO reactions (message_id, user_id, emoji, reacted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET emoji = EXCLUDED.emoji, reacted_at = EXCLUDED.reacted_at`,
		messageID, userID, emoji, at).Error
	return wrapErr(err, "react to message %d", messageID)
}

// LatestInbound is the external id of the customer's latest message in the
// thread ("" if none): what WhatsApp marks read.
func (s *Store) LatestInbound(ctx context.Context, businessID, threadID int64) (string, error) {
	var ext *string
	err := s.Gorm(ctx).Raw(`SELECT external_id FROM messages WHERE business_id = ? AND thread_id = ? AND direction = 'in'
		AND external_id IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1`, businessID, threadID).Scan(&ext).Error
	if err != nil || ext == nil {
		return "", wrapErr(err, "find latest message of thread %d", threadID)
	}
	return *ext, nil
}
