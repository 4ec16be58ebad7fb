package models

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// CannedResponse is a saved reply an agent inserts with /shortcut.
type CannedResponse struct {
	ID         int64  `json:"id"`
	BusinessID int64  `json:"-"`
	Shortcut   string `json:"shortcut"`
	Body       string `json:"body"`
}

var shortcutPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// CannedResponses lists a business's saved replies by shortcut.
// Every thread page and composer asks: it runs on pgx.
func (s *Store) CannedResponses(ctx context.Context, businessID int64) ([]CannedResponse, error) {
	var out *[]CannedResponse
	if err := s.read(ctx, func(rb *ReadBatch) { out = rb.CannedResponses(businessID) }); err != nil {
		return nil, err
	}
	return *out, nil
}

// SaveCannedResponse adds a saved reply or replaces the one with that shortcut.
func (s *Store) SaveCannedResponse(ctx context.Context, businessID int64, shortcut, body string) error {
	shortcut = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(shortcut), "/"))
	if !shortcutPattern.MatchString(shortcut) {
		return fmt.Errorf("shortcut may contain only a-z, 0-9, _ and -")
	}
	if strings.TrimSpace(body) == "" {
		return fmt.Errorf("the reply text is required")
	}
	err := s.Gorm(ctx).Exec(`INSERT INTO canned_responses (business_id, shortcut, body) VALUES (?, ?, ?)
		ON CONFLICT (business_id, shortcut) DO UPDATE SET body = EXCLUDED.body`, businessID, shortcut, body).Error
	return wrapErr(err, "save canned response %s", shortcut)
}

// DeleteCannedResponse removes one of the business's saved replies.
func (s *Store) DeleteCannedResponse(ctx context.Context, businessID, id int64) error {
	err := s.Gorm(ctx).Exec(`DELETE FROM canned_responses WHERE business_id = ? AND id = ?`, businessID, id).Error
	return wrapErr(err, "delete canned response %d", id)
}
