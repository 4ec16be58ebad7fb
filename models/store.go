package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Store is the query layer. Its methods read and write one business's data;
// the few that route by Meta's account ids say so.
type Store struct {
	DB     *DB
	g      *gorm.DB
	cipher *Cipher
}

// NewStore wraps db; cipher seals channel secrets and OTN tokens.
func NewStore(db *DB, cipher *Cipher) *Store {
	return &Store{DB: db, g: db.Gorm, cipher: cipher}
}

// Gorm returns the gorm handle for ctx (a transaction inside InTx).
func (s *Store) Gorm(ctx context.Context) *gorm.DB { return s.g.WithContext(ctx) }

// Cipher returns the cipher that seals secrets.
func (s *Store) Cipher() *Cipher { return s.cipher }

// InTx runs fn with a Store bound to one transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.g.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(&Store{DB: s.DB, g: g, cipher: s.cipher})
	})
}

// first loads one row into dst, turning "no row" into (false, nil).
func first(q *gorm.DB, dst any) (bool, error) {
	err := q.Take(dst).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil, err
}

// InboxChannel is the LISTEN/NOTIFY channel that carries live-UI events.
const InboxChannel = "inbox_events"

// Event is what travels over NOTIFY: ids only, rendered per recipient later.
type Event struct {
	Type       string `json:"t"` // message, status, thread, assignment, channel, access
	BusinessID int64  `json:"b"`
	ThreadID   int64  `json:"th,omitempty"`
	MessageID  int64  `json:"m,omitempty"`
	UserID     int64  `json:"u,omitempty"` // access: whose sockets end
	Session    string `json:"s,omitempty"` // access: only this session's (a digest of its token)
	RunID      int64  `json:"r,omitempty"` // a restock run's progress (EventRestock)
	ProductID  int64  `json:"p,omitempty"` // whose waitlist changed (EventWaitlist)
}

// EventAccess ends a member's live sockets: signed out, role changed, removed.
const EventAccess = "access"

// EventRestock is a restock run's progress: a few frames a second at most.
const EventRestock = "restock"

// EventWaitlist is a customer joining a product's waitlist.
const EventWaitlist = "waitlist"

// Notify queues ev for listeners; inside InTx it is delivered on commit.
func (s *Store) Notify(ctx context.Context, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := s.g.WithContext(ctx).Exec(`SELECT pg_notify(?, ?)`, InboxChannel, string(b)).Error; err != nil {
		return fmt.Errorf("store: unable to notify %s: %w", ev.Type, err)
	}
	return nil
}

// RelaxCommit lets the calling transaction commit without waiting for its
// WAL flush: for rows derived from durable input that a crash simply redoes.
func (s *Store) RelaxCommit(ctx context.Context) error {
	return wrapErr(s.g.WithContext(ctx).Exec(`SET LOCAL synchronous_commit = off`).Error, "relax commit")
}
