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
