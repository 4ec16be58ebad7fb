package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// ErrMergeSelf is returned when a contact would be merged into itself.
var ErrMergeSelf = fmt.Errorf("models: a contact cannot be merged with itself")

// MergeContacts makes two of the business's contacts one: the older contact
// is kept, the other's identities move to it, its empty fields are filled
// from the other, and the other points at it through merged_into_id. The
// change is audited. It returns the kept contact, or nil when either
// contact is not the business's (or already merged away).
func (s *Store) MergeContacts(ctx context.Context, businessID int64, userID *int64, aID, bID int64) (*Contact, error) {
	if aID == bID {
		return nil, ErrMergeSelf
	}
	var keepID int64
	err := s.InTx(ctx, func(tx *Store) error {
		var cs []Contact
		err := tx.Gorm(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("business_id = ? AND id IN ? AND merged_into_id IS NULL", businessID, []int64{aID, bID}).
			Order("created_at, id").Find(&cs).Error
		if err != nil {
			return err
		}
		if len(cs) != 2 {
			return nil
		}
		keep, gone := cs[0], cs[1]
		var moved []int64
		if err := tx.Gorm(ctx).Model(&Identity{}).Where("business_id = ? AND contact_id = ?", businessID, gone.ID).
			Pluck("id", &moved).Error; err != nil {
			return err
		}
		if err := tx.Gorm(ctx).Model(&Identity{}).Where("business_id = ? AND contact_id = ?", businessID, gone.ID).
			Updates(map[string]any{"contact_id": keep.ID, "updated_at": time.Now()}).Error; err != nil {
			return err
		}
		after := keep
		fill := func(dst *string, src string) {
			if *dst == "" {
				*dst = src
			}
		}
		fill(&after.Name, gone.Name)
		fill(&after.Phone, gone.Phone)
		fill(&after.Email, gone.Email)
		fill(&after.Country, gone.Country)
		if err := tx.Gorm(ctx).Model(&Contact{}).Where("id = ?", keep.ID).Updates(map[string]any{
			"name": after.Name, "phone": after.Phone, "email": after.Email, "country": after.Country, "updated_at": time.Now(),
		}).Error; err != nil {
			return err
		}
		if err := tx.Gorm(ctx).Model(&Contact{}).Where("id = ?", gone.ID).Updates(map[string]any{
			"merged_into_id": keep.ID, "updated_at": time.Now(),
		}).Error; err != nil {
			return err
		}
		keepID = keep.ID
		return tx.Audit(ctx, businessID, userID, "contact.merge", "contact", keep.ID,
			map[string]any{"kept": keep, "merged": gone},
			map[string]any{"kept": after, "merged_id": gone.ID, "moved_identity_ids": moved})
	})
	if err != nil {
		return nil, wrapErr(err, "merge contacts %d and %d", aID, bID)
	}
	if keepID == 0 {
		return nil, nil
	}
	return s.Contact(ctx, businessID, keepID)
}
