package inbound

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
	chs, err := a.wabaChannels(tx, ev.AccountID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, ch := range chs {
		if a.cur.signer.Trusts(ch.ID) { // route kept the event only if one is; change only those
			ids = append(ids, ch.ID)
		}
	}
	if len(ids) == 0 {
		return nil
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

// wabaChannels lists the WhatsApp channels of a WABA (cached for the batch).
func (a *applier) wabaChannels(tx *models.Store, wabaID string) ([]models.Channel, error) {
	if chs, ok := a.wabas[wabaID]; ok {
		return chs, nil
	}
	chs, err := tx.ChannelsByWABA(a.ctx, wabaID)
	if err != nil {
		return nil, err
	}
	if a.wabas == nil {
		a.wabas = map[string][]models.Channel{}
	}
	a.wabas[wabaID] = chs
	return chs, nil
}
