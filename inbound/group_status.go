package inbound

import (
	"encoding/json"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// A message sent to a native WhatsApp group has one delivered and one read
// status per participant (recipient_participant_id). The message's own
// status moves with the first of them; each participant's is kept apart, and
// so is its pricing: Meta bills a group message per delivered participant,
// so the message-level status row carries no pricing for it.

// groupStatus says whether ev is a status of a group message.
func groupStatus(ev *adapters.Event) bool {
	return ev.Type == adapters.EventStatus && ev.Status != nil && ev.GroupID != ""
}

// participantStatuses applies the participant statuses among evs as one
// statement and queues a status event for every message whose receipt moved.
func (a *applier) participantStatuses(tx *models.Store, chs []*models.Channel, evs []*adapters.Event) error {
	var us []models.ParticipantStatus
	for i, ev := range evs {
		if !groupStatus(ev) || ev.Status.ParticipantID == "" {
			continue
		}
		st := ev.Status
		u := models.ParticipantStatus{ChannelID: chs[i].ID, ExternalID: st.ExternalID, Participant: st.ParticipantID,
			Status: string(st.Status), At: ev.Timestamp}
		if st.Pricing != nil {
			u.Pricing, _ = json.Marshal(st.Pricing)
		}
		us = append(us, u)
	}
	if len(us) == 0 {
		return nil
	}
	moved, err := tx.AdvanceParticipantStatuses(a.ctx, us)
	for _, r := range moved {
		a.events = append(a.events, models.Event{Type: "status", BusinessID: r.BusinessID, ThreadID: r.ThreadID, MessageID: r.MessageID})
	}
	return err
}
