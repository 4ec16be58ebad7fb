package models

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Template statuses as Meta reports them, lowercased; "deleted" is ours: Meta
// stopped listing the template.
const (
	TemplateApproved = "approved"
	TemplateDeleted  = "deleted"
)

// WATemplate is a WhatsApp message template of one channel's WABA, in
// whatever state Meta last reported.
type WATemplate struct {
	ID              int64          `json:"id"`
	BusinessID      int64          `json:"-"`
	ChannelID       int64          `json:"channel_id"`
	MetaID          string         `json:"meta_id"`
	Name            string         `json:"name"`
	Language        string         `json:"language"`
	Category        string         `json:"category"`
	Status          string         `gorm:"default:approved" json:"status"`
	StatusReason    string         `json:"status_reason,omitempty"`
	Body            string         `json:"body"`
	ParameterFormat string         `gorm:"default:positional" json:"parameter_format"`
	Parameters      TemplateParams `gorm:"type:jsonb" json:"parameters"`
	Components      JSON           `gorm:"type:jsonb" json:"components"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

// TableName keeps gorm from spelling it w_a_templates.
func (WATemplate) TableName() string { return "wa_templates" }

// TemplateSync is the outcome of a channel's last template sync.
type TemplateSync struct {
	ChannelID  int64
	BusinessID int64
	SyncedAt   time.Time
	Error      string
	Fetched    int
	Deleted    int
}

// TableName names the sync log table.
func (TemplateSync) TableName() string { return "wa_template_syncs" }

// Templates lists every template of the business's channels, deleted ones included.
func (s *Store) Templates(ctx context.Context, businessID int64) ([]WATemplate, error) {
	var ts []WATemplate
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("channel_id, name, language").Find(&ts).Error
	return ts, wrapErr(err, "list templates")
}

// TemplateByID loads one of the business's templates, or nil.
func (s *Store) TemplateByID(ctx context.Context, businessID, id int64) (*WATemplate, error) {
	var t WATemplate
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch template %d", id)
	}
	return &t, nil
}

// ReplaceTemplates makes the channel's templates what Meta lists now: each is
// upserted by (name, language), the ones Meta no longer lists become deleted
// (never removed: messages point at them), and the sync is logged.
func (s *Store) ReplaceTemplates(ctx context.Context, ch *Channel, listed []WATemplate, at time.Time) (TemplateSync, error) {
	sync := TemplateSync{ChannelID: ch.ID, BusinessID: ch.BusinessID, SyncedAt: at, Fetched: len(listed)}
	err := s.InTx(ctx, func(tx *Store) error {
		seen := make([]string, 0, len(listed))
		for _, t := range listed {
			if t.Parameters == nil {
				t.Parameters = TemplateParams{}
			}
			err := tx.Gorm(ctx).Exec(`INSERT INTO wa_templates (business_id, channel_id, meta_id, name, language, category, status,
				status_reason, body, parameter_format, parameters, components, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (channel_id, name, language) DO UPDATE SET meta_id = EXCLUDED.meta_id, category = EXCLUDED.category,
				status = EXCLUDED.status, status_reason = EXCLUDED.status_reason, body = EXCLUDED.body,
				parameter_format = EXCLUDED.parameter_format, parameters = EXCLUDED.parameters,
				components = EXCLUDED.components, updated_at = EXCLUDED.updated_at`,
				ch.BusinessID, ch.ID, t.MetaID, t.Name, t.Language, t.Category, t.Status, t.StatusReason, t.Body,
				t.ParameterFormat, t.Parameters, t.Components, at).Error
			if err != nil {
				return wrapErr(err, "upsert template %s/%s", t.Name, t.Language)
			}
			seen = append(seen, t.Name+"/"+t.Language)
		}
		unlisted := tx.Gorm(ctx).Model(&WATemplate{}).Where("channel_id = ? AND status <> ?", ch.ID, TemplateDeleted)
		if len(seen) > 0 {
			unlisted = unlisted.Where("name || '/' || language NOT IN ?", seen)
		}
		res := unlisted.Updates(map[string]any{"status": TemplateDeleted, "updated_at": at})
		if res.Error != nil {
			return wrapErr(res.Error, "mark unlisted templates of channel %d", ch.ID)
		}
		sync.Deleted = int(res.RowsAffected)
		return tx.saveTemplateSync(ctx, sync)
	})
	return sync, err
}

// RecordTemplateSyncFailure logs a sync that could not read Meta's list; the
// templates stay as they were.
func (s *Store) RecordTemplateSyncFailure(ctx context.Context, ch *Channel, at time.Time, cause error) error {
	return s.saveTemplateSync(ctx, TemplateSync{ChannelID: ch.ID, BusinessID: ch.BusinessID, SyncedAt: at, Error: cause.Error()})
}

func (s *Store) saveTemplateSync(ctx context.Context, t TemplateSync) error {
	err := s.Gorm(ctx).Exec(`INSERT INTO wa_template_syncs (channel_id, business_id, synced_at, error, fetched, deleted)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET synced_at = EXCLUDED.synced_at,
		error = EXCLUDED.error, fetched = EXCLUDED.fetched, deleted = EXCLUDED.deleted`,
		t.ChannelID, t.BusinessID, t.SyncedAt, t.Error, t.Fetched, t.Deleted).Error
	return wrapErr(err, "record template sync of channel %d", t.ChannelID)
}

// TemplateSyncs is the last sync of each of the business's channels, by channel id.
func (s *Store) TemplateSyncs(ctx context.Context, businessID int64) (map[int64]TemplateSync, error) {
	var rows []TemplateSync
	if err := s.Gorm(ctx).Where("business_id = ?", businessID).Find(&rows).Error; err != nil {
		return nil, wrapErr(err, "list template syncs")
	}
	out := make(map[int64]TemplateSync, len(rows))
	for _, r := range rows {
		out[r.ChannelID] = r
	}
	return out, nil
}

// TemplateChange is what a template webhook tells: a new status or category
// of one template, named by Meta's id and/or name and language.
type TemplateChange struct {
	MetaID   string
	Name     string
	Language string
	Status   string // lowercased Meta event; empty when only the category changed
	Reason   string
	Category string // lowercased new category; empty when only the status changed
}

// ApplyTemplateChange updates the template on every given channel (one WABA
// may back several numbers) and reports how many rows changed.
func (s *Store) ApplyTemplateChange(ctx context.Context, channelIDs []int64, c TemplateChange, at time.Time) (int64, error) {
	set := map[string]any{"updated_at": at}
	if c.Status != "" {
		set["status"], set["status_reason"] = c.Status, c.Reason
	}
	if c.Category != "" {
		set["category"] = c.Category
	}
	q := s.Gorm(ctx).Model(&WATemplate{}).Where("channel_id IN ?", channelIDs)
	if c.MetaID != "" {
		q = q.Where("(meta_id = ? OR (meta_id = '' AND name = ? AND language = ?))", c.MetaID, c.Name, c.Language)
	} else {
		q = q.Where("name = ? AND language = ?", c.Name, c.Language)
	}
	res := q.Updates(set)
	return res.RowsAffected, wrapErr(res.Error, "apply template change %s/%s", c.Name, c.Language)
}

// ChannelsByWABA lists the WhatsApp channels (any business) whose numbers
// belong to the WhatsApp Business Account: account-level webhooks name only it.
func (s *Store) ChannelsByWABA(ctx context.Context, wabaID string) ([]Channel, error) {
	var chs []Channel
	err := s.Gorm(ctx).Where("app = ? AND waba_id = ?", AppWhatsApp, wabaID).Order("id").Find(&chs).Error
	return chs, wrapErr(err, "list channels of WABA %s", wabaID)
}

// TemplateParam is one variable of a template: where it sits and its name,
// "1", "2"… for positional templates, "first_name" for named ones.
type TemplateParam struct {
	Component string `json:"component"`       // header, body or button
	Index     int    `json:"index,omitempty"` // the button's position, for URL buttons
	Name      string `json:"name"`
	Example   string `json:"example,omitempty"`
}

// TemplateParams is the jsonb list of a template's variables.
type TemplateParams []TemplateParam

// Value implements driver.Valuer.
func (p TemplateParams) Value() (driver.Value, error) {
	if p == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]TemplateParam(p))
	return string(b), err
}

// Scan implements sql.Scanner.
func (p *TemplateParams) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*p = nil
		return nil
	case []byte:
		return json.Unmarshal(v, p)
	case string:
		return json.Unmarshal([]byte(v), p)
	}
	return fmt.Errorf("models: cannot scan %T into TemplateParams", src)
}

// WATemplates lists a channel's approved WhatsApp templates (the business's only).
func (s *Store) WATemplates(ctx context.Context, businessID, channelID int64) ([]WATemplate, error) {
	var ts []WATemplate
	err := s.Gorm(ctx).Where("business_id = ? AND channel_id = ? AND status = 'approved'", businessID, channelID).
		Order("name, language").Find(&ts).Error
	return ts, wrapErr(err, "list templates of channel %d", channelID)
}

// ApprovedTemplate finds an approved template of the channel by name and
// language, or nil.
func (s *Store) ApprovedTemplate(ctx context.Context, businessID, channelID int64, name, language string) (*WATemplate, error) {
	var t WATemplate
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND channel_id = ? AND name = ? AND language = ? AND status = 'approved'",
		businessID, channelID, name, language), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch template %s/%s", name, language)
	}
	return &t, nil
}
