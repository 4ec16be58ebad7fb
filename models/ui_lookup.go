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
