package models

import (
	"context"
	"strings"
	"time"
)

// A member's roles in a business.
const (
	RoleAdmin = "admin"
	RoleAgent = "agent"
	RoleStaff = "staff"
)

// ValidRole reports whether role is one of admin, agent, staff.
func ValidRole(role string) bool { return role == RoleAdmin || role == RoleAgent || role == RoleStaff }

// User is a person who signs in; Memberships give them roles per business.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Locale       string    `json:"locale"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership gives a user a role in a business.
type Membership struct {
	BusinessID int64     `gorm:"primaryKey;autoIncrement:false" json:"business_id"`
	UserID     int64     `gorm:"primaryKey;autoIncrement:false" json:"user_id"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// CreateUser adds a user (or finds one by email) and gives them role in the
// business.
func (s *Store) CreateUser(ctx context.Context, businessID int64, email, name, passwordHash, role string) (*User, error) {
	u := &User{Email: strings.ToLower(strings.TrimSpace(email)), Name: name, PasswordHash: passwordHash, Locale: "en"}
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.Gorm(ctx).Create(u).Error; err != nil {
			return err
		}
		return tx.Gorm(ctx).Create(&Membership{BusinessID: businessID, UserID: u.ID, Role: role}).Error
	})
	if err != nil {
		return nil, wrapErr(err, "create user %s", email)
	}
	return u, nil
}

// UserByEmail loads a user for sign-in, or nil.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	ok, err := first(s.Gorm(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))), &u)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch user by email")
	}
	return &u, nil
}

// User loads a user by id, or nil.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	var u User
	ok, err := first(s.Gorm(ctx).Where("id = ?", id), &u)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch user %d", id)
	}
	return &u, nil
}

// Membership is the user's role in the business, or nil when they have none.
func (s *Store) Membership(ctx context.Context, businessID, userID int64) (*Membership, error) {
	var m Membership
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND user_id = ?", businessID, userID), &m)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch membership")
	}
	return &m, nil
}

// Memberships lists the businesses a user belongs to, oldest first.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	var ms []Membership
	err := s.Gorm(ctx).Where("user_id = ?", userID).Order("created_at, business_id").Find(&ms).Error
	return ms, wrapErr(err, "list memberships of user %d", userID)
}

// Member is a user with their role in one business.
type Member struct {
	User
	Role string
}

// Members lists a business's users with their roles.
func (s *Store) Members(ctx context.Context, businessID int64) ([]Member, error) {
	var out []Member
	err := s.Gorm(ctx).Table("users").Select("users.*, memberships.role").
		Joins("JOIN memberships ON memberships.user_id = users.id").
		Where("memberships.business_id = ?", businessID).Order("users.email").Scan(&out).Error
	return out, wrapErr(err, "list members of business %d", businessID)
}

// SetRole changes a member's role.
func (s *Store) SetRole(ctx context.Context, businessID, userID int64, role string) error {
	err := s.Gorm(ctx).Model(&Membership{}).Where("business_id = ? AND user_id = ?", businessID, userID).
		Update("role", role).Error
	return wrapErr(err, "set role of user %d", userID)
}

// SetLocale sets the language a user reads the UI in.
func (s *Store) SetLocale(ctx context.Context, userID int64, locale string) error {
	return wrapErr(s.Gorm(ctx).Model(&User{}).Where("id = ?", userID).Update("locale", locale).Error, "set locale")
}

// RemoveMember takes a user out of a business: the membership goes and the
// business's threads assigned to them are unassigned. The account stays
// (other businesses, the audit trail).
func (s *Store) RemoveMember(ctx context.Context, businessID, userID int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.Gorm(ctx).Exec(`UPDATE threads SET assignee_id = NULL WHERE business_id = ? AND assignee_id = ?`,
			businessID, userID).Error; err != nil {
			return wrapErr(err, "unassign threads of user %d", userID)
		}
		err := tx.Gorm(ctx).Exec(`DELETE FROM memberships WHERE business_id = ? AND user_id = ?`, businessID, userID).Error
		return wrapErr(err, "remove member %d", userID)
	})
}

// SetPasswordHash replaces a user's password (an argon2id PHC string).
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	err := s.Gorm(ctx).Model(&User{}).Where("id = ?", userID).Update("password_hash", hash).Error
	return wrapErr(err, "set password of user %d", userID)
}

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
