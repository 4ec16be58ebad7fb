package models

import (
	"context"
	"time"
)

// MessageCost is what one outbound WhatsApp message is expected to cost and
// what Meta says it was charged as. EstimatedMicros nil: no price known
// (unknown market or nothing in the table that day).
type MessageCost struct {
	MessageID       int64
	BusinessID      int64
	ChannelID       *int64
	Country         string
	Market          string
	Category        string
	Currency        string
	EstimatedMicros *int64
	ActualCategory  string
	ActualType      string
	CreatedAt       time.Time
}

// RecordMessageCosts stores the estimates of newly queued messages (same
// transaction as the messages).
func (s *Store) RecordMessageCosts(ctx context.Context, costs []MessageCost) error {
	if len(costs) == 0 {
		return nil
	}
	return wrapErr(s.Gorm(ctx).Create(&costs).Error, "record %d message costs", len(costs))
}

// MessageCostOf loads a message's cost, or nil.
func (s *Store) MessageCostOf(ctx context.Context, businessID, messageID int64) (*MessageCost, error) {
	var c MessageCost
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND message_id = ?", businessID, messageID), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch cost of message %d", messageID)
	}
	return &c, nil
}
