package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Store is the query layer. Its methods read and write one business's data;
// the few that route by Meta's account ids say so.
type Store struct {
	DB     *DB
	g      *gorm.DB
	tx     *pgx.Conn // inside InTx: the transaction's connection, which the pgx reads use
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

// InTx runs fn with a Store bound to one transaction. gorm runs it on one
// database/sql connection, and the Store's pgx reads (Queries) run on the
// same connection's pgx.Conn, so every read and write of fn sees the
// transaction. Nested, it is a savepoint on the same connection.
//
// database/sql asks that a driver connection taken with Raw be used only
// inside Raw's callback (so that it never runs alongside database/sql's own
// use of it). Here the sql.Conn stays held by this call until the
// transaction ends, and fn's gorm statements and pgx reads take turns on
// it, never at once — the rule's reason holds. fn must not use the Store
// from several goroutines at once (neither can it with a plain sql.Tx).
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return s.g.WithContext(ctx).Transaction(func(g *gorm.DB) error {
			return fn(&Store{DB: s.DB, g: g, tx: s.tx, cipher: s.cipher})
		})
	}
	conn, err := s.DB.SQL.Conn(ctx)
	if err != nil {
		return wrapErr(err, "begin transaction")
	}
	defer func() { _ = conn.Close() }()
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("models: a %T is not a pgx connection", dc)
		}
		pc = c.Conn()
		return nil
	}); err != nil {
		return err
	}
	// The transaction begins on a context that is never cancelled: on a
	// cancelled ctx database/sql would roll back from a goroutine of its
	// own while fn's pgx reads may be using the connection (pgx panics on
	// such concurrent use). fn's statements still take ctx, so a cancel
	// fails the running one, fn returns, and the rollback follows in turn.
	g := s.g.WithContext(context.WithoutCancel(ctx)) // a session with its own statement
	g.Statement.ConnPool = conn
	return g.Transaction(func(g *gorm.DB) error {
		return fn(&Store{DB: s.DB, g: g, tx: pc, cipher: s.cipher})
	})
}

// querier is what the store's pgx reads run on: the pool, or inside InTx
// the transaction's connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pgx is where the store's reads run (see querier).
func (s *Store) pgx() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.DB.Pool
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
	// Read marks a "thread" event that only cleared the unread count: a
	// socket that opens just after one need not re-read its page for it
	// (MarkThreadRead: the reader's own new pane already shows it read).
	Read bool `json:"rd,omitempty"`
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

// NotifyEvents queues many events for listeners in one statement, one
// notification per business (split when it would pass PostgreSQL's payload
// limit), in order; inside InTx they are delivered on commit. A listener
// reads a notification with DecodeEvents.
func (s *Store) NotifyEvents(ctx context.Context, evs []Event) error {
	payloads, err := notifyPayloads(evs)
	if err != nil {
		return err
	}
	return s.notifyAll(ctx, payloads)
}

// notifyPayloads packs events into NotifyEvents' notifications.
func notifyPayloads(evs []Event) ([]string, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	var order []int64
	byBusiness := map[int64][][]byte{}
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if _, ok := byBusiness[ev.BusinessID]; !ok {
			order = append(order, ev.BusinessID)
		}
		byBusiness[ev.BusinessID] = append(byBusiness[ev.BusinessID], b)
	}
	var payloads []string
	var buf []byte
	for _, businessID := range order {
		buf = buf[:0]
		for _, b := range byBusiness[businessID] {
			if len(buf) > 0 && len(buf)+1+len(b)+1 > maxNotifyPayload {
				payloads = append(payloads, string(append(buf, ']')))
				buf = buf[:0]
			}
			if len(buf) == 0 {
				buf = append(buf, '[')
			} else {
				buf = append(buf, ',')
			}
			buf = append(buf, b...)
		}
		payloads = append(payloads, string(append(buf, ']')))
	}
	return payloads, nil
}

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxNotifyPayload = 7900

// DecodeEvents reads one notification of InboxChannel: one event (Notify)
// or a business's many (NotifyEvents), in order.
func DecodeEvents(payload string) ([]Event, error) {
	if strings.HasPrefix(payload, "[") {
		var evs []Event
		err := json.Unmarshal([]byte(payload), &evs)
		return evs, err
	}
	var ev Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// notifyAll queues many NOTIFY payloads in one statement.
func (s *Store) notifyAll(ctx context.Context, payloads []string) error {
	if len(payloads) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, InboxChannel, payloads)
	return wrapErr(err, "notify %d events", len(payloads))
}
