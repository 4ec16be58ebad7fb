package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"
)

// A message's directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// A message's statuses.
const (
	StatusReceived  = "received"
	StatusQueued    = "queued"
	StatusUnknown   = "unknown" // the request left for Meta and no evidence of its fate came back
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
)

// MessageKinds is the contract's list of message kinds.
var MessageKinds = []string{"text", "image", "video", "audio", "file", "sticker", "location", "contacts",
	"reaction", "postback", "story_mention", "story_reply", "share", "poll", "poll_vote", "template",
	"interactive_reply", "order", "system", "unsupported"}

// Message is one item in a thread, in or out.
type Message struct {
	ID                int64      `json:"id"`
	BusinessID        int64      `json:"-"`
	ThreadID          int64      `json:"thread_id"`
	ChannelID         *int64     `json:"-"`
	Direction         string     `json:"direction"`
	App               string     `json:"app"`
	Kind              string     `json:"kind"`
	ExternalID        *string    `json:"external_id"`
	Text              string     `json:"text"`
	Details           JSON       `gorm:"type:jsonb" json:"details"`
	ReplyToID         *int64     `json:"reply_to_id"`
	ReplyToExternalID string     `json:"-"`
	SenderIdentityID  *int64     `json:"sender_identity_id"`
	AuthorUserID      *int64     `json:"author_user_id,omitempty"`
	SentAt            time.Time  `json:"sent_at"`
	Status            string     `json:"status"`
	StatusAt          time.Time  `json:"status_at"`
	ErrorCode         *int       `json:"-"`
	ErrorTitle        string     `json:"-"`
	MessagingType     string     `json:"messaging_type,omitempty"`
	Tag               string     `json:"tag,omitempty"`
	PolicyReason      string     `json:"policy_reason,omitempty"`
	Attempts          int        `json:"-"`
	DeletedAt         *time.Time `json:"-"`
	EditedAt          *time.Time `json:"-"`
	EditCount         int        `json:"-"`
	CreatedAt         time.Time  `json:"-"`

	Attachments []Attachment  `gorm:"-" json:"attachments"`
	Reactions   []Reaction    `gorm:"-" json:"reactions"`
	Error       *MessageError `gorm:"-" json:"error"`
	Deleted     bool          `gorm:"-" json:"deleted"`
	Edited      bool          `gorm:"-" json:"edited"`
}

// MessageError is Meta's refusal of a send, as the contract shows it.
type MessageError struct {
	Code  int    `json:"code"`
	Title string `json:"title"`
}

// Finish fills the contract's derived fields after a load.
func (m *Message) Finish() {
	m.Deleted = m.DeletedAt != nil
	m.Edited = m.EditedAt != nil
	if m.ErrorCode != nil || m.ErrorTitle != "" {
		code := 0
		if m.ErrorCode != nil {
			code = *m.ErrorCode
		}
		m.Error = &MessageError{Code: code, Title: m.ErrorTitle}
	}
	if m.Attachments == nil {
		m.Attachments = []Attachment{}
	}
	if m.Reactions == nil {
		m.Reactions = []Reaction{}
	}
}

// MessageStatus records the first time a message reached a status.
type MessageStatus struct {
	MessageID int64  `gorm:"primaryKey;autoIncrement:false"`
	Status    string `gorm:"primaryKey"`
	At        time.Time
	Pricing   JSON `gorm:"type:jsonb"`
}

// Attachment is a media item or file on a message.
type Attachment struct {
	ID        int64      `json:"id"`
	MessageID int64      `json:"-"`
	Kind      string     `json:"kind"`
	URL       string     `json:"url,omitempty"`
	MediaID   string     `json:"media_id,omitempty"`
	MimeType  string     `json:"mime_type,omitempty"`
	SHA256    string     `gorm:"column:sha256" json:"-"`
	Filename  string     `json:"filename,omitempty"`
	Caption   string     `json:"caption,omitempty"`
	SizeBytes int64      `json:"size_bytes,omitempty"`
	CachedURL string     `json:"-"`
	CachedAt  *time.Time `json:"-"`
}

// MessagePage is a run of a thread's messages, oldest first; NextCursor
// pages further back in time.
type MessagePage struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// Messages returns the latest limit messages of a thread before cursor
// (limit: 50 when 0 or above 500).
func (s *Store) Messages(ctx context.Context, businessID, threadID int64, cursor string, limit int) (page *MessagePage, err error) {
	if err := s.read(ctx, func(rb *ReadBatch) { page = rb.Messages(businessID, threadID, cursor, limit) }); err != nil {
		return nil, err
	}
	return page, nil
}

// Message loads one of the business's messages with its parts, or nil.
func (s *Store) Message(ctx context.Context, businessID, id int64) (*Message, error) {
	var msgs *[]Message
	err := s.read(ctx, func(rb *ReadBatch) { msgs = rb.MessagesByID(businessID, []int64{id}) })
	if err != nil || len(*msgs) == 0 {
		return nil, wrapErr(err, "fetch message %d", id)
	}
	return &(*msgs)[0], nil
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

// Watermark is a customer's receipt: every send of ours to them on the
// channel up to UpTo has reached Status, as Meta said at At.
type Watermark struct {
	ChannelID, IdentityID int64
	UpTo, At              time.Time
	Status                string
}

// SendsUpTo lists, for many receipt watermarks in one query, our sends to
// each customer's direct thread on the channel up to it that a receipt of
// its status would still move forward: the status updates they make, by our
// message id (and Meta's, when the send has one).
func (s *Store) SendsUpTo(ctx context.Context, ws []Watermark) ([]StatusUpdate, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	n := len(ws)
	chs, ids, upTo, ats, sts := make([]int64, n), make([]int64, n), make([]time.Time, n), make([]time.Time, n), make([]string, n)
	for i, w := range ws {
		chs[i], ids[i], upTo[i], ats[i], sts[i] = w.ChannelID, w.IdentityID, w.UpTo, w.At, w.Status
	}
	rows, err := s.sqlQuery(ctx, `SELECT m.id, w.ch, m.external_id, w.st, w.at
		FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[]) AS w(ch, ident, up_to, at, st)
		JOIN threads t ON t.channel_id = w.ch AND t.direct_identity_id = w.ident
		JOIN messages m ON m.thread_id = t.id
		WHERE m.direction = 'out' AND m.sent_at <= w.up_to
			AND message_status_rank(m.status) < message_status_rank(w.st) AND m.status NOT IN ('failed', 'queued')`,
		chs, ids, upTo, ats, sts)
	if err != nil {
		return nil, wrapErr(err, "list sends up to %d watermarks", n)
	}
	var out []StatusUpdate
	err = scanRows(rows, func(r *sql.Rows) error {
		var u StatusUpdate
		var ext sql.NullString
		err := r.Scan(&u.MessageID, &u.ChannelID, &ext, &u.Status, &u.At)
		u.ExternalID = ext.String
		out = append(out, u)
		return err
	})
	return out, wrapErr(err, "read sends up to watermarks")
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

// Messages queues Store.Messages.
// The page is read newest first with limit+1 rows to learn whether an
// older page exists; its attachments and reactions come from two more
// statements of the batch that repeat the page's index scan rather than
// wait for its ids.
func (rb *ReadBatch) Messages(businessID, threadID int64, cursor string, limit int) *MessagePage {
	page := &MessagePage{Messages: []Message{}}
	limit = pageLimit(limit, maxMessagePage)
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

// MessagesByID queues Message for each of ids: those of the business's
// messages among them, with their parts, by id.
func (rb *ReadBatch) MessagesByID(businessID int64, ids []int64) *[]Message {
	out := new([]Message)
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
	msgs := []Message{} // empty, not nil: the API writes []
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

// QuotedMessage is the little a quoted reply shows of the message it answers.
type QuotedMessage struct {
	ID        int64
	Direction string
	Kind      string
	Text      string
	Deleted   bool
}

// QuotedMessages loads the quoted messages of a business by id.
func (s *Store) QuotedMessages(ctx context.Context, businessID int64, ids []int64) (map[int64]QuotedMessage, error) {
	out := map[int64]QuotedMessage{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []QuotedMessage
	err := s.Gorm(ctx).Table("messages").Select("id, direction, kind, text, deleted_at IS NOT NULL AS deleted").
		Where("business_id = ? AND id IN ?", businessID, ids).Scan(&rows).Error
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, wrapErr(err, "load quoted messages")
}

// AddMessage stores a message once (a repeated external id on the channel
// changes nothing) and keeps the thread's preview, time and unread count up
// to date incrementally. Call it inside InTx; listeners hear of it on commit.
func (s *Store) AddMessage(ctx context.Context, m *Message, atts []Attachment) (inserted bool, err error) {
	if m.Details == nil {
		m.Details = JSON("{}")
	}
	if m.StatusAt.IsZero() {
		m.StatusAt = time.Now()
	}
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(m)
	if res.Error != nil {
		return false, wrapErr(res.Error, "add message to thread %d", m.ThreadID)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	for i := range atts {
		atts[i].MessageID = m.ID
	}
	if len(atts) > 0 {
		if err := s.Gorm(ctx).Create(&atts).Error; err != nil {
			return false, wrapErr(err, "add attachments of message %d", m.ID)
		}
	}
	m.Attachments = atts
	unread, customer := 0, any(nil)
	if m.Direction == DirectionIn {
		unread, customer = 1, m.SentAt
	}
	ev, err := json.Marshal(Event{Type: "message", BusinessID: m.BusinessID, ThreadID: m.ThreadID, MessageID: m.ID})
	if err != nil {
		return false, err
	}
	// The thread's update and the listeners' notification in one round trip
	// (a data-modifying WITH runs whether or not the rest reads it).
	err = s.Gorm(ctx).Exec(`WITH touched AS (UPDATE threads SET
			last_message_preview = CASE WHEN last_message_preview = '' OR ? >= last_message_at THEN ? ELSE last_message_preview END,
			last_message_direction = CASE WHEN last_message_preview = '' OR ? >= last_message_at THEN ? ELSE last_message_direction END,
			last_message_at = GREATEST(last_message_at, ?),
			last_customer_at = CASE WHEN ?::timestamptz IS NULL THEN last_customer_at ELSE GREATEST(last_customer_at, ?::timestamptz) END,
			unread_count = unread_count + ?,
			status = CASE WHEN ? = 1 AND status = 'closed' THEN 'open' ELSE status END,
			updated_at = now()
		WHERE id = ?)
		SELECT pg_notify(?, ?)`,
		m.SentAt, Preview(m), m.SentAt, m.Direction, m.SentAt, customer, customer, unread, unread, m.ThreadID,
		InboxChannel, string(ev)).Error
	return true, wrapErr(err, "update thread %d", m.ThreadID)
}

// Preview is the one-line summary of a message shown in the inbox list.
func Preview(m *Message) string {
	const max = 140
	p := m.Text
	if p == "" {
		p = "[" + m.Kind + "]"
	}
	if r := []rune(p); len(r) > max {
		p = string(r[:max-1]) + "…"
	}
	return p
}

// AttachmentWithChannel loads one of the business's attachments and the
// channel its message came through, or nils.
func (s *Store) AttachmentWithChannel(ctx context.Context, businessID, id int64) (*Attachment, *Channel, error) {
	var a Attachment
	ok, err := first(s.Gorm(ctx).Table("attachments").Select("attachments.*").
		Joins("JOIN messages m ON m.id = attachments.message_id").
		Where("attachments.id = ? AND m.business_id = ?", id, businessID), &a)
	if err != nil || !ok {
		return nil, nil, wrapErr(err, "fetch attachment %d", id)
	}
	var ch Channel
	ok, err = first(s.Gorm(ctx).Where("business_id = ? AND id = (SELECT channel_id FROM messages WHERE id = ?)", businessID, a.MessageID), &ch)
	if err != nil || !ok {
		return &a, nil, wrapErr(err, "fetch channel of attachment %d", id)
	}
	return &a, &ch, nil
}

// CacheMediaURL remembers the download URL Meta gave for an attachment.
func (s *Store) CacheMediaURL(ctx context.Context, attachmentID int64, url string) error {
	err := s.Gorm(ctx).Model(&Attachment{}).Where("id = ?", attachmentID).
		Updates(map[string]any{"cached_url": url, "cached_at": time.Now()}).Error
	return wrapErr(err, "cache media URL of attachment %d", attachmentID)
}

// OutboundStatusCounts counts a business's outbound messages by status.
func (s *Store) OutboundStatusCounts(ctx context.Context, businessID int64) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.Gorm(ctx).Model(&Message{}).Select("status, count(*) AS n").
		Where("business_id = ? AND direction = ?", businessID, DirectionOut).Group("status").Scan(&rows).Error
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, wrapErr(err, "count outbound messages")
}

// ExternalIDCounts counts a business's stored messages per Meta id, for the
// ids that start with prefix: each should be stored once.
func (s *Store) ExternalIDCounts(ctx context.Context, businessID int64, prefix string) (map[string]int, error) {
	var rows []struct {
		ExternalID string
		N          int
	}
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
	err := s.Gorm(ctx).Model(&Message{}).Select("external_id, count(*) AS n").
		Where("business_id = ? AND external_id LIKE ?", businessID, escaped+"%").Group("external_id").Scan(&rows).Error
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ExternalID] = r.N
	}
	return out, wrapErr(err, "count messages by external id")
}

// AddInboundMessages stores many customer messages once each (a repeated
// external id on the channel changes nothing), as AddMessage does one, in
// one statement: the rows, each thread's preview, time, unread count and
// reopening (one row per thread), and each sender's latest message time (the
// window's facts). Attachments follow in a second statement when there are
// any. It returns the messages it inserted, in order, with their ids; the
// caller notifies. Each message must have an external id, unique within msgs.
func (s *Store) AddInboundMessages(ctx context.Context, msgs []*Message) ([]*Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := len(msgs)
	var (
		biz, threads, chs, senders     = make([]int64, n), make([]int64, n), make([]*int64, n), make([]*int64, n)
		dirs, apps, kinds, texts, exts = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
		details, statuses, replyExts   = make([]string, n), make([]string, n), make([]string, n)
		previews                       = make([]string, n)
		sentAt, statusAt               = make([]time.Time, n), make([]time.Time, n)
		byExt                          = make(map[IdentityKey]*Message, n)
	)
	for i, m := range msgs {
		if m.Details == nil {
			m.Details = JSON("{}")
		}
		m.ID = 0 // set below for those inserted
		biz[i], threads[i], chs[i], senders[i] = m.BusinessID, m.ThreadID, m.ChannelID, m.SenderIdentityID
		dirs[i], apps[i], kinds[i], texts[i], exts[i] = m.Direction, m.App, m.Kind, m.Text, m.ExternalID
		details[i], statuses[i], replyExts[i], sentAt[i], statusAt[i] = string(m.Details), m.Status, m.ReplyToExternalID, m.SentAt, m.StatusAt
		previews[i] = Preview(m)
		byExt[IdentityKey{ChannelID: *m.ChannelID, ExternalID: *m.ExternalID}] = m
	}
	// The rows take their ids in msgs' order. Of each thread's new messages
	// the latest (Meta's time, then msgs' order) gives its preview.
	rows, err := s.sqlQuery(ctx, `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
				$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
				$13::timestamptz[], $14::timestamptz[], $15::text[]) WITH ORDINALITY
				AS v(b, t, c, si, dir, app, kind, text, ext, d, st, rx, sa, sta, preview, ord)
		), ins AS (
			INSERT INTO messages (business_id, thread_id, channel_id, sender_identity_id,
				direction, app, kind, text, external_id, details, status, reply_to_external_id, sent_at, status_at)
			SELECT b, t, c, si, dir, app, kind, text, ext, d::jsonb, st, rx, sa, sta FROM v ORDER BY ord
			ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
			RETURNING id, channel_id, external_id
		), added AS (
			SELECT v.* FROM ins JOIN v ON v.c = ins.channel_id AND v.ext = ins.external_id
		), latest AS (
			SELECT DISTINCT ON (t) t, preview, dir, sa FROM added ORDER BY t, sa DESC, ord DESC
		), per_thread AS (
			SELECT t, count(*) FILTER (WHERE dir = 'in') AS unread, max(sa) FILTER (WHERE dir = 'in') AS cust
			FROM added GROUP BY t
		), touched AS (
			UPDATE threads th SET
				last_message_preview = CASE WHEN th.last_message_preview = '' OR l.sa >= th.last_message_at THEN l.preview ELSE th.last_message_preview END,
				last_message_direction = CASE WHEN th.last_message_preview = '' OR l.sa >= th.last_message_at THEN l.dir ELSE th.last_message_direction END,
				last_message_at = GREATEST(th.last_message_at, l.sa),
				last_customer_at = CASE WHEN p.cust IS NULL THEN th.last_customer_at ELSE GREATEST(th.last_customer_at, p.cust) END,
				unread_count = th.unread_count + p.unread,
				status = CASE WHEN p.unread > 0 AND th.status = 'closed' THEN 'open' ELSE th.status END,
				updated_at = now()
			FROM latest l JOIN per_thread p USING (t)
			WHERE th.id = l.t
		), facts AS (
			INSERT INTO identity_events (identity_id, kind, last_at)
			SELECT si, 'message', max(sa) FROM added WHERE si IS NOT NULL AND dir = 'in' GROUP BY si
			ON CONFLICT (identity_id, kind) DO UPDATE SET last_at = GREATEST(identity_events.last_at, EXCLUDED.last_at)
		)
		SELECT id, channel_id, external_id FROM ins`,
		biz, threads, chs, senders, dirs, apps, kinds, texts, exts, details, statuses, replyExts, sentAt, statusAt, previews)
	if err != nil {
		return nil, wrapErr(err, "add %d messages", n)
	}
	if err := scanRows(rows, func(r *sql.Rows) error {
		var id int64
		var k IdentityKey
		if err := r.Scan(&id, &k.ChannelID, &k.ExternalID); err != nil {
			return err
		}
		if m := byExt[k]; m != nil {
			m.ID = id
		}
		return nil
	}); err != nil {
		return nil, wrapErr(err, "read added messages")
	}
	var out []*Message
	var atts []Attachment
	for _, m := range msgs {
		if m.ID == 0 {
			continue
		}
		out = append(out, m)
		for i := range m.Attachments {
			m.Attachments[i].MessageID = m.ID
			atts = append(atts, m.Attachments[i])
		}
	}
	if len(atts) > 0 {
		if err := s.Gorm(ctx).Create(&atts).Error; err != nil {
			return nil, wrapErr(err, "add attachments of %d messages", len(out))
		}
		k := 0
		for _, m := range out { // ids back onto the messages' own attachments
			for i := range m.Attachments {
				m.Attachments[i] = atts[k]
				k++
			}
		}
	}
	return out, nil
}

// MessageInThread reports whether the business's message id is in the thread
// (a reply must quote a message of its own conversation).
func (s *Store) MessageInThread(ctx context.Context, businessID, threadID, id int64) (bool, error) {
	var n int64
	err := s.Gorm(ctx).Model(&Message{}).Where("business_id = ? AND thread_id = ? AND id = ?", businessID, threadID, id).Count(&n).Error
	return n > 0, wrapErr(err, "find message %d in thread %d", id, threadID)
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
