package models

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// MessagePage is a run of a thread's messages, oldest first; NextCursor
// pages further back in time.
type MessagePage struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// Messages returns the latest limit messages of a thread before cursor.
func (s *Store) Messages(ctx context.Context, businessID, threadID int64, cursor string, limit int) (*MessagePage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if s.pool() != nil {
		rb := s.NewReadBatch()
		page := rb.Messages(businessID, threadID, cursor, limit)
		if err := rb.Send(ctx); err != nil {
			return nil, err
		}
		return page, nil
	}
	q := s.Gorm(ctx).Where("business_id = ? AND thread_id = ?", businessID, threadID)
	if cursor != "" {
		at, id, err := DecodeCursor(cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("(sent_at, id) < (?, ?)", at, id)
	}
	var msgs []Message
	if err := q.Order("sent_at DESC, id DESC").Limit(limit + 1).Find(&msgs).Error; err != nil {
		return nil, wrapErr(err, "list messages of thread %d", threadID)
	}
	page := &MessagePage{}
	if len(msgs) > limit {
		msgs = msgs[:limit]
		last := msgs[limit-1]
		page.NextCursor = EncodeCursor(last.SentAt, last.ID)
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	if err := s.loadMessageParts(ctx, msgs); err != nil {
		return nil, err
	}
	page.Messages = msgs
	return page, nil
}

// Message loads one of the business's messages, or nil.
func (s *Store) Message(ctx context.Context, businessID, id int64) (*Message, error) {
	if pool := s.pool(); pool != nil {
		return s.messageFast(ctx, pool, businessID, id)
	}
	var m Message
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &m)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch message %d", id)
	}
	ms := []Message{m}
	if err := s.loadMessageParts(ctx, ms); err != nil {
		return nil, err
	}
	return &ms[0], nil
}

func (s *Store) loadMessageParts(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]int64, len(msgs))
	index := make(map[int64]int, len(msgs))
	for i := range msgs {
		ids[i] = msgs[i].ID
		index[msgs[i].ID] = i
	}
	var atts []Attachment
	if err := s.Gorm(ctx).Where("message_id IN ?", ids).Order("id").Find(&atts).Error; err != nil {
		return wrapErr(err, "load attachments")
	}
	for _, a := range atts {
		m := &msgs[index[a.MessageID]]
		m.Attachments = append(m.Attachments, a)
	}
	var reacts []Reaction
	if err := s.Gorm(ctx).Where("message_id IN ?", ids).Order("reacted_at, id").Find(&reacts).Error; err != nil {
		return wrapErr(err, "load reactions")
	}
	for _, r := range reacts {
		m := &msgs[index[r.MessageID]]
		m.Reactions = append(m.Reactions, r)
	}
	for i := range msgs {
		msgs[i].Finish()
	}
	return nil
}

// StatusUpdate is a delivery fact about an outbound message, from Meta's
// status webhooks or from our own send worker.
type StatusUpdate struct {
	MessageID  int64  // ours, when known
	ChannelID  int64  // the channel a webhook arrived on: scopes MessageID too
	ExternalID string // mid or wamid
	Status     string
	At         time.Time
	Pricing    JSON
	ErrorCode  *int
	ErrorTitle string
}

// StatusResult says what AdvanceStatus did.
type StatusResult struct {
	Found      bool
	Changed    bool // the message's current status moved forward
	MessageID  int64
	ThreadID   int64
	BusinessID int64
}

// AdvanceStatus records a status and moves the message forward only:
// queued < unknown < sent < delivered < read < played; failed only from
// queued, unknown or sent. An unknown message moves only once Meta's id is
// tied to it (reconciled by its callback token): a read watermark covering
// it proves nothing. A repeated (message, status) changes nothing. One
// statement, no savepoint: it runs on the ingest's hot path.
func (s *Store) AdvanceStatus(ctx context.Context, u StatusUpdate) (StatusResult, error) {
	var (
		r    StatusResult
		cond = "id = @mid"
	)
	switch {
	case u.MessageID == 0 && u.ChannelID == 0:
		return r, errors.New("store: a status update must name its message or its channel")
	case u.MessageID == 0:
		cond = "channel_id = @ch AND external_id = @ext"
	case u.ChannelID != 0:
		cond = "id = @mid AND channel_id = @ch" // what a webhook names is only trusted on its own channel
	}
	row := struct {
		ID, ThreadID, BusinessID int64
		Changed                  bool
	}{}
	err := s.Gorm(ctx).Raw(`WITH m AS (SELECT id, thread_id, business_id FROM messages WHERE `+cond+` LIMIT 1),
		ins AS (INSERT INTO message_statuses (message_id, status, at, pricing)
			SELECT id, @st, @at, CAST(@pricing AS jsonb) FROM m ON CONFLICT DO NOTHING),
		upd AS (UPDATE messages SET status = @st, status_at = @at,
				error_code = COALESCE(CAST(@code AS integer), messages.error_code),
				error_title = CASE WHEN @title <> '' THEN @title ELSE messages.error_title END
			FROM m WHERE messages.id = m.id AND (
				(@st <> 'failed' AND messages.status <> 'failed' AND message_status_rank(messages.status) < message_status_rank(@st)
					AND (messages.status <> 'unknown' OR messages.external_id IS NOT NULL))
				OR (@st = 'failed' AND messages.status IN ('queued', 'unknown', 'sent')))
			RETURNING messages.id)
		SELECT m.id, m.thread_id, m.business_id, EXISTS (SELECT 1 FROM upd) AS changed FROM m`,
		sql.Named("mid", u.MessageID), sql.Named("ch", u.ChannelID), sql.Named("ext", u.ExternalID),
		sql.Named("st", u.Status), sql.Named("at", u.At), sql.Named("pricing", nullJSON(u.Pricing)),
		sql.Named("code", u.ErrorCode), sql.Named("title", u.ErrorTitle)).Scan(&row).Error
	if err != nil {
		return r, wrapErr(err, "advance status of message")
	}
	if row.ID == 0 {
		return r, nil
	}
	r = StatusResult{Found: true, Changed: row.Changed, MessageID: row.ID, ThreadID: row.ThreadID, BusinessID: row.BusinessID}
	if r.Changed {
		return r, s.Notify(ctx, Event{Type: "status", BusinessID: r.BusinessID, ThreadID: r.ThreadID, MessageID: r.MessageID})
	}
	return r, nil
}

func nullJSON(j JSON) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}

// UnsendMessage marks the channel's message deleted, at the customer's time.
func (s *Store) UnsendMessage(ctx context.Context, channelID int64, externalID string, at time.Time) error {
	err := s.Gorm(ctx).Exec(`UPDATE messages SET deleted_at = COALESCE(deleted_at, ?) WHERE channel_id = ? AND external_id = ?`,
		at, channelID, externalID).Error
	return wrapErr(err, "unsend message %s", externalID)
}

// LinkReply points message id at the channel's message it quotes, when held.
func (s *Store) LinkReply(ctx context.Context, channelID, messageID int64, quotedExternalID string) error {
	err := s.Gorm(ctx).Exec(`UPDATE messages SET reply_to_id = (SELECT id FROM messages WHERE channel_id = ? AND external_id = ?)
		WHERE id = ?`, channelID, quotedExternalID, messageID).Error
	return wrapErr(err, "link reply of message %d", messageID)
}

// MessageByExternal is the channel's message with Meta's id, or nil.
func (s *Store) MessageByExternal(ctx context.Context, channelID int64, externalID string) (*Message, error) {
	var m Message
	ok, err := first(s.Gorm(ctx).Where("channel_id = ? AND external_id = ?", channelID, externalID), &m)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch message %s", externalID)
	}
	return &m, nil
}

// ClaimExternalID gives our message id on the channel Meta's id, unless it
// has one or another message holds it; it reports whether it did.
func (s *Store) ClaimExternalID(ctx context.Context, channelID, messageID int64, externalID string) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE messages SET external_id = ? WHERE id = ? AND channel_id = ? AND external_id IS NULL
		AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.channel_id = ? AND o.external_id = ?)`,
		externalID, messageID, channelID, channelID, externalID)
	return res.RowsAffected > 0, wrapErr(res.Error, "reconcile message %d", messageID)
}

// SentUpTo lists our sends to a customer's direct thread on the channel up to
// a receipt watermark that a receipt of status would still move forward.
func (s *Store) SentUpTo(ctx context.Context, channelID, identityID int64, watermark time.Time, status string) ([]int64, error) {
	var ids []int64
	err := s.Gorm(ctx).Raw(`SELECT m.id FROM messages m JOIN threads t ON t.id = m.thread_id
		WHERE t.channel_id = ? AND t.direct_identity_id = ? AND m.direction = 'out' AND m.sent_at <= ?
		AND message_status_rank(m.status) < message_status_rank(?) AND m.status NOT IN ('failed', 'queued')`,
		channelID, identityID, watermark, status).Scan(&ids).Error
	return ids, wrapErr(err, "list sends up to a watermark")
}

// ApplyEdit replaces a message's text with Meta's numbered edit, never an older one.
func (s *Store) ApplyEdit(ctx context.Context, channelID int64, externalID, text string, numEdit int, at time.Time) error {
	n := max(numEdit, 1)
	err := s.Gorm(ctx).Exec(`UPDATE messages SET text = ?, edited_at = ?, edit_count = ?
		WHERE channel_id = ? AND external_id = ? AND edit_count < ?`, text, at, n, channelID, externalID, n).Error
	return wrapErr(err, "edit message %s", externalID)
}

// UnmatchedSendLike is our oldest send in the thread on the channel that Meta
// may hold without our knowing its id — queued with its request gone, or
// unknown — with this kind and text, or 0.
func (s *Store) UnmatchedSendLike(ctx context.Context, channelID, threadID int64, kind, text string) (int64, error) {
	var id int64
	err := s.Gorm(ctx).Raw(`SELECT m.id FROM messages m LEFT JOIN outbox_sends o ON o.message_id = m.id
		WHERE m.thread_id = ? AND m.channel_id = ? AND m.direction = 'out' AND m.external_id IS NULL
			AND ((m.status = 'queued' AND o.started_at IS NOT NULL) OR m.status = 'unknown')
			AND m.kind = ? AND m.text = ?
		ORDER BY m.id LIMIT 1`, threadID, channelID, kind, text).Scan(&id).Error
	return id, wrapErr(err, "find a send an echo matches")
}
