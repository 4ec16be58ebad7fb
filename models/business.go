package models

import (
	"context"
	"fmt"
	"time"
)

// Business is a tenant: everything else hangs from one.
type Business struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateBusiness adds a tenant.
func (s *Store) CreateBusiness(ctx context.Context, name string) (*Business, error) {
	b := &Business{Name: name}
	if err := s.Gorm(ctx).Create(b).Error; err != nil {
		return nil, fmt.Errorf("store: unable to create business: %w", err)
	}
	return b, nil
}

// Business loads one tenant, or nil.
func (s *Store) Business(ctx context.Context, id int64) (*Business, error) {
	var b Business
	ok, err := first(s.Gorm(ctx).Where("id = ?", id), &b)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch business %d", id)
	}
	return &b, nil
}
