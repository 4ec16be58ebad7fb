package inbound_test

import (
	"fmt"
	"testing"
)

func waGroupStatus(wamid, status, participant string, ts int64, priced bool) string {
	pricing := ""
	if priced {
		pricing = `,"pricing":{"pricing_model":"PMP","category":"group_service","type":"regular"}`
	}
	return waEnvelope(fmt.Sprintf(`"statuses":[{"id":"%s","status":"%s","timestamp":"%d","recipient_id":"120363025246125486",
"recipient_type":"group","recipient_participant_id":"%s"%s}]`, wamid, status, ts, participant, pricing))
}

// Statuses of a message to a native WhatsApp group, one per participant,
// out of order and replayed: each participant's moves forward only and keeps
// its first pricing; the message's own status row carries none.
func TestGroupStatusesPerParticipant(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	m := e.outbound("wamid.GROUP1")
	e.deliver(
		waGroupStatus("wamid.GROUP1", "read", "393331110001", 1763700300, false),
		waGroupStatus("wamid.GROUP1", "delivered", "393331110001", 1763700200, true),
		waGroupStatus("wamid.GROUP1", "delivered", "393331110002", 1763700210, true),
		waGroupStatus("wamid.GROUP1", "delivered", "393331110002", 1763700210, true), // Meta's retry
		waGroupStatus("wamid.GROUP1", "delivered", "393331110003", 1763700220, true),
	)
	r, err := e.s.GroupReceipts(e.ctx, e.bizID, []int64{m.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := r[m.ID]; got.Of != 3 || got.Delivered != 3 || got.Read != 1 {
		t.Fatalf("receipt %+v, want read by 1 and delivered to 3 of 3", got)
	}
	var priced, rows int64
	e.s.Gorm(e.ctx).Raw(`SELECT count(*) FILTER (WHERE pricing IS NOT NULL), count(*) FROM message_participant_statuses WHERE message_id = ?`, m.ID).
		Row().Scan(&priced, &rows)
	if priced != 3 || rows != 3 {
		t.Fatalf("%d of %d participant rows priced, want 3 of 3", priced, rows)
	}
	var msgPriced int64
	e.s.Gorm(e.ctx).Table("message_statuses").Where("message_id = ? AND pricing IS NOT NULL", m.ID).Count(&msgPriced)
	if msgPriced != 0 {
		t.Fatalf("%d message-level statuses carry a group's pricing", msgPriced)
	}
	if got := e.message("wamid.GROUP1"); got.Status != "read" {
		t.Fatalf("message status %s, want read (its first participant's furthest)", got.Status)
	}
}
