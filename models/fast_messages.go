package models

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// messageColumns are the messages columns in the order messageDest reads them.
const messageColumns = `m.id, m.business_id, m.thread_id, m.channel_id, m.direction, m.app, m.kind, m.external_id, m.text,
	m.details, m.reply_to_id, m.reply_to_external_id, m.sender_identity_id, m.author_user_id, m.sent_at, m.status,
	m.status_at, m.error_code, m.error_title, m.messaging_type, m.tag, m.policy_reason, m.attempts, m.deleted_at,
	m.edited_at, m.edit_count, m.created_at`

func messageDest(m *Message, details *[]byte) []any {
	return []any{&m.ID, &m.BusinessID, &m.ThreadID, &m.ChannelID, &m.Direction, &m.App, &m.Kind, &m.ExternalID, &m.Text,
		details, &m.ReplyToID, &m.ReplyToExternalID, &m.SenderIdentityID, &m.AuthorUserID, &m.SentAt, &m.Status,
		&m.StatusAt, &m.ErrorCode, &m.ErrorTitle, &m.MessagingType, &m.Tag, &m.PolicyReason, &m.Attempts, &m.DeletedAt,
		&m.EditedAt, &m.EditCount, &m.CreatedAt}
}

// The page of messages, its attachments and its reactions go in one
// batch (one round trip); the two part queries repeat the page's index
// scan instead of waiting for its ids.
const (
	messagesPageSQL = `SELECT ` + messageColumns + ` FROM messages m
		WHERE m.business_id = $1 AND m.thread_id = $2 ORDER BY m.sent_at DESC, m.id DESC LIMIT $3`
	messagesPageIDs = `SELECT m.id FROM messages m
		WHERE m.business_id = $1 AND m.thread_id = $2 ORDER BY m.sent_at DESC, m.id DESC LIMIT $3`
	olderMessagesPageSQL = `SELECT ` + messageColumns + ` FROM messages m
		WHERE m.business_id = $1 AND m.thread_id = $2 AND (m.sent_at, m.id) < ($4, $5)
		ORDER BY m.sent_at DESC, m.id DESC LIMIT $3`
	olderMessagesPageIDs = `SELECT m.id FROM messages m
		WHERE m.business_id = $1 AND m.thread_id = $2 AND (m.sent_at, m.id) < ($4, $5)
		ORDER BY m.sent_at DESC, m.id DESC LIMIT $3`
	attachmentColumns = `a.id, a.message_id, a.kind, a.url, a.media_id, a.mime_type, a.sha256, a.filename, a.caption,
		a.size_bytes, a.cached_url, a.cached_at`
	reactionColumns = `r.id, r.message_id, r.identity_id, r.user_id, r.emoji, r.reacted_at`
)

// Messages queues Store.Messages (limit as there: 50 when out of range).
// The page is read newest first with limit+1 rows to learn whether an
// older page exists; its attachments and reactions come from two more
// statements of the batch that repeat the page's index scan rather than
// wait for its ids.
func (rb *ReadBatch) Messages(businessID, threadID int64, cursor string, limit int) *MessagePage {
	page := &MessagePage{}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if rb.pool == nil {
		rb.slow = append(rb.slow, func(ctx context.Context) error {
			p, err := rb.s.Messages(ctx, businessID, threadID, cursor, limit)
			if err == nil {
				*page = *p
			}
			return err
		})
		return page
	}
	args := []any{businessID, threadID, limit + 1}
	pageSQL, idsSQL := messagesPageSQL, messagesPageIDs
	if cursor != "" {
		at, id, err := DecodeCursor(cursor)
		if err != nil {
			rb.fail(err)
			return page
		}
		args = append(args, at, id)
		pageSQL, idsSQL = olderMessagesPageSQL, olderMessagesPageIDs
	}
	rb.batch.Queue(pageSQL, args...)
	rb.batch.Queue(`SELECT `+attachmentColumns+` FROM attachments a WHERE a.message_id IN (`+idsSQL+`) ORDER BY a.id`, args...)
	rb.batch.Queue(`SELECT `+reactionColumns+` FROM reactions r WHERE r.message_id IN (`+idsSQL+`) ORDER BY r.reacted_at, r.id`, args...)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		msgs, err := scanMessages(br)
		if err != nil {
			return wrapErr(err, "list messages of thread %d", threadID)
		}
		if len(msgs) > limit {
			msgs = msgs[:limit]
			last := msgs[limit-1]
			page.NextCursor = EncodeCursor(last.SentAt, last.ID)
		}
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		page.Messages = msgs
		return scanMessageParts(br, msgs)
	})
	return page
}

// messageFast is Message on pgx: the message and its parts in one round trip.
func (s *Store) messageFast(ctx context.Context, pool *pgxpool.Pool, businessID, id int64) (*Message, error) {
	rb := &ReadBatch{pool: pool}
	msgs := rb.MessagesByID(businessID, []int64{id})
	if err := rb.Send(ctx); err != nil || len(*msgs) == 0 {
		return nil, wrapErr(err, "fetch message %d", id)
	}
	return &(*msgs)[0], nil
}

// MessagesByID queues Message for each of ids: those of the business's
// messages among them, with their parts, by id.
func (rb *ReadBatch) MessagesByID(businessID int64, ids []int64) *[]Message {
	out := new([]Message)
	if rb.pool == nil {
		rb.slow = append(rb.slow, func(ctx context.Context) error {
			for _, id := range slices.Sorted(slices.Values(ids)) {
				m, err := rb.s.Message(ctx, businessID, id)
				if err != nil {
					return err
				}
				if m != nil && (len(*out) == 0 || (*out)[len(*out)-1].ID != m.ID) {
					*out = append(*out, *m)
				}
			}
			return nil
		})
		return out
	}
	cond, arg := idsCondition("m.id", ids)
	rb.batch.Queue(`SELECT `+messageColumns+` FROM messages m WHERE m.business_id = $1 AND `+cond+` ORDER BY m.id`, businessID, arg)
	rb.batch.Queue(`SELECT `+attachmentColumns+` FROM attachments a JOIN messages m ON m.id = a.message_id
		WHERE m.business_id = $1 AND `+cond+` ORDER BY a.id`, businessID, arg)
	rb.batch.Queue(`SELECT `+reactionColumns+` FROM reactions r JOIN messages m ON m.id = r.message_id
		WHERE m.business_id = $1 AND `+cond+` ORDER BY r.reacted_at, r.id`, businessID, arg)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		msgs, err := scanMessages(br)
		if err != nil {
			return wrapErr(err, "fetch messages")
		}
		*out = msgs
		return scanMessageParts(br, msgs)
	})
	return out
}

// scanMessages reads the batch's next result as messages.
func scanMessages(br pgx.BatchResults) ([]Message, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	msgs := []Message{} // like gorm's Find: empty, not nil
	var details []byte
	for rows.Next() {
		msgs = append(msgs, Message{})
		m := &msgs[len(msgs)-1]
		if err := rows.Scan(messageDest(m, &details)...); err != nil {
			return nil, err
		}
		if details != nil {
			m.Details = JSON(append([]byte(nil), details...))
		}
	}
	return msgs, rows.Err()
}

// scanMessageParts reads the batch's next two results, attachments and
// reactions, into msgs (parts of messages not in msgs are skipped), then
// finishes each message as loadMessageParts does.
func scanMessageParts(br pgx.BatchResults, msgs []Message) error {
	index := make(map[int64]int, len(msgs))
	for i := range msgs {
		index[msgs[i].ID] = i
	}
	rows, err := br.Query()
	if err != nil {
		return wrapErr(err, "load attachments")
	}
	var a Attachment
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.MessageID, &a.Kind, &a.URL, &a.MediaID, &a.MimeType, &a.SHA256,
		&a.Filename, &a.Caption, &a.SizeBytes, &a.CachedURL, &a.CachedAt}, func() error {
		if i, ok := index[a.MessageID]; ok {
			msgs[i].Attachments = append(msgs[i].Attachments, a)
		}
		a.CachedAt = nil
		return nil
	})
	if err != nil {
		return wrapErr(err, "load attachments")
	}
	if rows, err = br.Query(); err != nil {
		return wrapErr(err, "load reactions")
	}
	var r Reaction
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.MessageID, &r.IdentityID, &r.UserID, &r.Emoji, &r.ReactedAt}, func() error {
		if i, ok := index[r.MessageID]; ok {
			msgs[i].Reactions = append(msgs[i].Reactions, r)
		}
		r.IdentityID, r.UserID = nil, nil
		return nil
	})
	if err != nil {
		return wrapErr(err, "load reactions")
	}
	for i := range msgs {
		msgs[i].Finish()
	}
	return nil
}

// idsCondition matches column against ids as $2. One id is compared as a
// scalar: PostgreSQL plans "= ANY($2)" afresh on every call (its cost
// depends on the array's length), which for a single row costs more than
// running it; most reads by id (a message, a live event's thread) want one.
func idsCondition(column string, ids []int64) (string, any) {
	if len(ids) == 1 {
		return column + " = $2", ids[0]
	}
	return column + " = ANY($2)", ids
}
