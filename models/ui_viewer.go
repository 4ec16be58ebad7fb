package models

import "context"

// SignedIn is a user with their role in one business, loaded in one query
// for every authenticated request.
type SignedIn struct {
	User
	Role string
}

// SignedInUser loads a user and their role in the business, or nil when
// they are not a member.
func (s *Store) SignedInUser(ctx context.Context, businessID, userID int64) (*SignedIn, error) {
	var out []SignedIn
	err := s.Gorm(ctx).Raw(`SELECT u.*, m.role FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.business_id = ? AND u.id = ?`, businessID, userID).Scan(&out).Error
	if err != nil || len(out) == 0 {
		return nil, wrapErr(err, "fetch signed-in user %d", userID)
	}
	return &out[0], nil
}
