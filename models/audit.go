package models

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent records who changed what.
type AuditEvent struct {
	ID         int64
	BusinessID int64
	UserID     *int64
	Action     string
	Entity     string
	EntityID   *int64
	Before     JSON `gorm:"type:jsonb"`
	After      JSON `gorm:"type:jsonb"`
	CreatedAt  time.Time
}

// Audit records who changed what; before and after are marshalled to JSON.
func (s *Store) Audit(ctx context.Context, businessID int64, userID *int64, action, entity string, entityID int64, before, after any) error {
	ev := AuditEvent{BusinessID: businessID, UserID: userID, Action: action, Entity: entity, EntityID: &entityID}
	var err error
	if ev.Before, err = json.Marshal(before); err != nil {
		return err
	}
	if ev.After, err = json.Marshal(after); err != nil {
		return err
	}
	return wrapErr(s.Gorm(ctx).Create(&ev).Error, "record audit event %s", action)
}

// AuditEvents lists a business's latest audit events, newest first.
func (s *Store) AuditEvents(ctx context.Context, businessID int64, limit int) ([]AuditEvent, error) {
	var evs []AuditEvent
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("created_at DESC, id DESC").Limit(limit).Find(&evs).Error
	return evs, wrapErr(err, "list audit events")
}
