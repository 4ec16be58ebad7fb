package models

import (
	"context"
	"strings"
)

// WATemplates lists a channel's approved WhatsApp templates (the business's only).
func (s *Store) WATemplates(ctx context.Context, businessID, channelID int64) ([]WATemplate, error) {
	var ts []WATemplate
	err := s.Gorm(ctx).Where("business_id = ? AND channel_id = ? AND status = 'approved'", businessID, channelID).
		Order("name, language").Find(&ts).Error
	return ts, wrapErr(err, "list templates of channel %d", channelID)
}

// Products lists a business's products by name.
func (s *Store) Products(ctx context.Context, businessID int64, limit int) ([]Product, error) {
	var ps []Product
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("name, id").Limit(limit).Find(&ps).Error
	return ps, wrapErr(err, "list products")
}

// SearchContacts finds a business's live (not merged away) contacts by name
// words or phone, at most limit.
func (s *Store) SearchContacts(ctx context.Context, businessID int64, q string, excludeID int64, limit int) ([]Contact, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	var cs []Contact
	err := s.Gorm(ctx).Where(`business_id = ? AND merged_into_id IS NULL AND id <> ? AND
			(to_tsvector('simple', name) @@ plainto_tsquery('simple', ?) OR (phone <> '' AND phone = ?))`,
		businessID, excludeID, q, q).Order("name, id").Limit(limit).Find(&cs).Error
	return cs, wrapErr(err, "search contacts")
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

// PollTally is a poll with each option's current vote count.
type PollTally struct {
	Poll
	Counts []int // by Options index
	Voters int
}

// PollsForMessages loads the polls posted by the given messages of a
// business, with their tallies, keyed by message id.
func (s *Store) PollsForMessages(ctx context.Context, businessID int64, messageIDs []int64) (map[int64]*PollTally, error) {
	out := map[int64]*PollTally{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	var polls []Poll
	if err := s.Gorm(ctx).Where("business_id = ? AND message_id IN ?", businessID, messageIDs).Find(&polls).Error; err != nil {
		return nil, wrapErr(err, "load polls")
	}
	if len(polls) == 0 {
		return out, nil
	}
	byID := map[int64]*PollTally{}
	ids := make([]int64, 0, len(polls))
	for _, p := range polls {
		t := &PollTally{Poll: p}
		byID[p.ID] = t
		out[*p.MessageID] = t
		ids = append(ids, p.ID)
	}
	var opts []PollOption
	if err := s.Gorm(ctx).Where("poll_id IN ?", ids).Order("poll_id, position").Find(&opts).Error; err != nil {
		return nil, wrapErr(err, "load poll options")
	}
	pos := map[int64]int{}
	for _, o := range opts {
		t := byID[o.PollID]
		pos[o.ID] = len(t.Options)
		t.Options = append(t.Options, o)
		t.Counts = append(t.Counts, 0)
	}
	var votes []PollVote
	if err := s.Gorm(ctx).Where("poll_id IN ?", ids).Find(&votes).Error; err != nil {
		return nil, wrapErr(err, "load poll votes")
	}
	for _, v := range votes {
		t := byID[v.PollID]
		t.Voters++
		for _, oid := range v.OptionIDs {
			if i, ok := pos[oid]; ok && byID[v.PollID].Options[i].PollID == v.PollID {
				t.Counts[i]++
			}
		}
	}
	return out, nil
}

// FailedWebhook is a stored payload that could not be processed.
type FailedWebhook struct {
	ID         int64
	App        string
	ReceivedAt string
	Outcome    string
	Error      string
	Attempts   int
	Body       string // the start of the payload, as text
	RawBody    []byte `gorm:"column:raw_body"`
}

// FailedWebhooks lists the latest payloads that failed or named an account
// we do not know, limited to those that mention one of the business's
// account ids (Page, Instagram account, phone number or WABA): raw payloads
// carry no business, and one tenant must never read another's.
func (s *Store) FailedWebhooks(ctx context.Context, businessID int64, limit int) ([]FailedWebhook, error) {
	chs, err := s.Channels(ctx, businessID)
	if err != nil || len(chs) == 0 {
		return nil, err
	}
	var needles []string
	for _, ch := range chs {
		needles = append(needles, `"`+ch.AccountID+`"`)
		if ch.WABAID != "" {
			needles = append(needles, `"`+ch.WABAID+`"`)
		}
	}
	var rows []FailedWebhook
	err = s.Gorm(ctx).Raw(`SELECT id, app, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS received_at,
			outcome, error, attempts, substring(body for 4000) AS raw_body
		FROM raw_webhooks
		WHERE outcome IN ('failed', 'unknown_account')
		  AND EXISTS (SELECT 1 FROM unnest(?::text[]) n WHERE position(convert_to(n, 'UTF8') IN body) > 0)
		ORDER BY received_at DESC LIMIT ?`, StringListOf(needles), limit).Scan(&rows).Error
	for i := range rows {
		rows[i].Body = strings.ToValidUTF8(string(rows[i].RawBody), "\uFFFD")
		rows[i].RawBody = nil
	}
	return rows, wrapErr(err, "list failed webhooks")
}

// StringListOf quotes arbitrary strings as a PostgreSQL text[] literal.
func StringListOf(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
