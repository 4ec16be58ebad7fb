package models

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Label tags threads.
type Label struct {
	ID         int64  `json:"id"`
	BusinessID int64  `json:"business_id"`
	Name       string `json:"name"`
	Color      string `json:"color"`
}

// Labels lists a business's labels by name.
func (s *Store) Labels(ctx context.Context, businessID int64) ([]Label, error) {
	var ls []Label
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("name").Find(&ls).Error
	return ls, wrapErr(err, "list labels")
}

// CreateLabel adds a label, or returns the one with that name.
func (s *Store) CreateLabel(ctx context.Context, businessID int64, name string) (*Label, error) {
	name = strings.TrimSpace(name)
	var l Label
	err := s.Gorm(ctx).Raw(`INSERT INTO labels (business_id, name) VALUES (?, ?)
		ON CONFLICT (business_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING *`, businessID, name).Scan(&l).Error
	if err != nil {
		return nil, wrapErr(err, "create label %q", name)
	}
	return &l, nil
}

// SetLabelColor sets the colour one of the business's labels is drawn in.
func (s *Store) SetLabelColor(ctx context.Context, businessID, id int64, color string) error {
	err := s.Gorm(ctx).Model(&Label{}).Where("business_id = ? AND id = ?", businessID, id).Update("color", color).Error
	return wrapErr(err, "colour label %d", id)
}

// DeleteLabel removes one of the business's labels from every thread.
func (s *Store) DeleteLabel(ctx context.Context, businessID, id int64) error {
	err := s.Gorm(ctx).Exec(`DELETE FROM labels WHERE business_id = ? AND id = ?`, businessID, id).Error
	return wrapErr(err, "delete label %d", id)
}

// SetThreadLabels makes labelIDs the thread's labels; ids of another
// business are ignored. It reports ErrNotFound for another business's thread.
func (s *Store) SetThreadLabels(ctx context.Context, businessID, threadID int64, labelIDs []int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		var n int64
		if err := tx.Gorm(ctx).Model(&Thread{}).Where("business_id = ? AND id = ?", businessID, threadID).Count(&n).Error; err != nil {
			return wrapErr(err, "check thread %d", threadID)
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := tx.Gorm(ctx).Exec(`DELETE FROM thread_labels WHERE thread_id = ?`, threadID).Error; err != nil {
			return wrapErr(err, "clear labels of thread %d", threadID)
		}
		if len(labelIDs) > 0 {
			err := tx.Gorm(ctx).Exec(`INSERT INTO thread_labels (thread_id, label_id)
				SELECT ?, id FROM labels WHERE business_id = ? AND id IN ? ON CONFLICT DO NOTHING`,
				threadID, businessID, labelIDs).Error
			if err != nil {
				return wrapErr(err, "label thread %d", threadID)
			}
		}
		return tx.Notify(ctx, Event{Type: "thread", BusinessID: businessID, ThreadID: threadID})
	})
}

// LoadThreadLabels fills each thread's Labels in one query.
func (s *Store) LoadThreadLabels(ctx context.Context, businessID int64, threads []Thread) error {
	if len(threads) == 0 {
		return nil
	}
	ids := make([]int64, len(threads))
	index := make(map[int64]int, len(threads))
	for i, t := range threads {
		ids[i] = t.ID
		index[t.ID] = i
		threads[i].Labels = nil
	}
	rows, err := s.pgx().Query(ctx, `SELECT tl.thread_id, l.id, l.name, l.color FROM thread_labels tl
		JOIN labels l ON l.id = tl.label_id WHERE tl.thread_id = ANY($1) AND l.business_id = $2 ORDER BY l.name`, ids, businessID)
	if err != nil {
		return wrapErr(err, "load thread labels")
	}
	var threadID int64
	l := Label{BusinessID: businessID}
	_, err = pgx.ForEachRow(rows, []any{&threadID, &l.ID, &l.Name, &l.Color}, func() error {
		t := &threads[index[threadID]]
		t.Labels = append(t.Labels, l)
		return nil
	})
	return wrapErr(err, "load thread labels")
}
