package models

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Note is an agents-only remark on a thread; it is never sent.
type Note struct {
	ID           int64     `json:"id"`
	BusinessID   int64     `json:"-"`
	ThreadID     int64     `json:"thread_id"`
	AuthorUserID *int64    `json:"author_user_id"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

// Notes lists a thread's private notes, oldest first.
func (s *Store) Notes(ctx context.Context, businessID, threadID int64) ([]Note, error) {
	var ns []Note
	err := s.Gorm(ctx).Where("business_id = ? AND thread_id = ?", businessID, threadID).Order("created_at, id").Find(&ns).Error
	return ns, wrapErr(err, "list notes of thread %d", threadID)
}

// AddNote adds an agents-only note to one of the business's threads (it is
// never sent); nil when the thread is not the business's.
func (s *Store) AddNote(ctx context.Context, businessID, threadID, userID int64, body string) (*Note, error) {
	var n Note
	err := s.InTx(ctx, func(tx *Store) error {
		res := tx.Gorm(ctx).Raw(`INSERT INTO notes (business_id, thread_id, author_user_id, body)
			SELECT business_id, id, ?, ? FROM threads WHERE business_id = ? AND id = ? RETURNING *`,
			userID, strings.TrimSpace(body), businessID, threadID).Scan(&n)
		if res.Error != nil || n.ID == 0 {
			return res.Error
		}
		return tx.Notify(ctx, Event{Type: "note", BusinessID: businessID, ThreadID: threadID, MessageID: n.ID})
	})
	if err != nil || n.ID == 0 {
		return nil, wrapErr(err, "add note to thread %d", threadID)
	}
	return &n, nil
}

// Note loads one of the business's notes, or nil.
func (s *Store) Note(ctx context.Context, businessID, id int64) (*Note, error) {
	var n Note
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &n)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch note %d", id)
	}
	return &n, nil
}

// Notes queues Store.Notes.
func (rb *ReadBatch) Notes(businessID, threadID int64) *[]Note {
	out := new([]Note)
	rb.batch.Queue(`SELECT id, business_id, thread_id, author_user_id, body, created_at FROM notes
		WHERE business_id = $1 AND thread_id = $2 ORDER BY created_at, id`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "list notes of thread %d", threadID)
		}
		*out = []Note{}
		var n Note
		_, err = pgx.ForEachRow(rows, []any{&n.ID, &n.BusinessID, &n.ThreadID, &n.AuthorUserID, &n.Body, &n.CreatedAt}, func() error {
			*out = append(*out, n)
			n.AuthorUserID = nil // a fresh pointer for the next row
			return nil
		})
		return wrapErr(err, "list notes of thread %d", threadID)
	})
	return out
}
