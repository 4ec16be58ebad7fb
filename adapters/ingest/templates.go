package ingest

import (
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// templateUpdate applies message_template_status_update and
// template_category_update. They name the WABA, not a phone number, so they
// route to every WhatsApp channel of that WABA; from this moment the policy
// engine and the prices see the new status or category.
func (a *applier) templateUpdate(tx *models.Store, ev *adapters.Event) error {
	chs, err := tx.ChannelsByWABA(a.ctx, ev.AccountID)
	if err != nil {
		return err
	}
	if len(chs) == 0 {
		a.noteUnknown(ev.AccountID)
		return nil
	}
	ids := make([]int64, len(chs))
	for i, ch := range chs {
		ids[i] = ch.ID
	}
	u := ev.Template
	at := ev.Timestamp
	if at.IsZero() {
		at = time.Now().UTC()
	}
	// A template we have not synced yet changes nothing; the next sync brings it.
	_, err = tx.ApplyTemplateChange(a.ctx, ids, models.TemplateChange{
		MetaID: u.MetaID, Name: u.Name, Language: u.Language, Status: u.Status, Reason: u.Reason, Category: u.Category,
	}, at)
	return err
}
