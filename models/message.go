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
