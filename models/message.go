package models

import (
	"context"
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
	ChannelID  int64  // with ExternalID, when the update came from Meta
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
// sent < delivered < read < played; failed only from queued or sent. A
// repeated (message, status) changes nothing.
func (s *Store) AdvanceStatus(ctx context.Context, u StatusUpdate) (StatusResult, error) {
	var r StatusResult
	err := s.InTx(ctx, func(tx *Store) error {
		var m struct{ ID, ThreadID, BusinessID int64 }
		q := tx.Gorm(ctx).Model(&Message{}).Select("id, thread_id, business_id")
		if u.MessageID != 0 {
			q = q.Where("id = ?", u.MessageID)
		} else {
			q = q.Where("channel_id = ? AND external_id = ?", u.ChannelID, u.ExternalID)
		}
		ok, err := first(q, &m)
		if err != nil || !ok {
			return err
		}
		r = StatusResult{Found: true, MessageID: m.ID, ThreadID: m.ThreadID, BusinessID: m.BusinessID}
		ins := tx.Gorm(ctx).Exec(`INSERT INTO message_statuses (message_id, status, at, pricing)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, m.ID, u.Status, u.At, nullJSON(u.Pricing))
		if ins.Error != nil {
			return ins.Error
		}
		upd := tx.Gorm(ctx).Exec(`UPDATE messages SET status = ?, status_at = ?,
				error_code = COALESCE(?, error_code), error_title = CASE WHEN ? <> '' THEN ? ELSE error_title END
			WHERE id = ? AND (
				(? <> 'failed' AND status <> 'failed' AND message_status_rank(status) < message_status_rank(?))
				OR (? = 'failed' AND status IN ('queued', 'sent')))`,
			u.Status, u.At, u.ErrorCode, u.ErrorTitle, u.ErrorTitle, m.ID, u.Status, u.Status, u.Status)
		if upd.Error != nil {
			return upd.Error
		}
		r.Changed = upd.RowsAffected > 0
		if r.Changed {
			return tx.Notify(ctx, Event{Type: "status", BusinessID: m.BusinessID, ThreadID: m.ThreadID, MessageID: m.ID})
		}
		return nil
	})
	return r, wrapErr(err, "advance status of message")
}

func nullJSON(j JSON) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}
