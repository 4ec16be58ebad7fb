package inbound_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

// A status on business B's channel whose callback data names business A's
// message must not touch it, neither by a bare id nor by a reference signed
// for A's message.
func TestCallbackReferenceIsNotTrustedAcrossTenants(t *testing.T) {
	a := newEnv(t, "whatsapp", "PN1")
	msgA := a.outbound("") // A's send whose answer was lost
	bizB, _ := a.s.CreateBusiness(a.ctx, "Beta")
	chB, err := a.s.CreateChannel(a.ctx, models.NewChannel{BusinessID: bizB.ID, App: "whatsapp", AccountID: "PNB", AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range []string{fmt.Sprintf("sb:%d", msgA.ID), a.s.Cipher().CallbackRef(msgA.ID)} {
		body := strings.Replace(waEnvelope(fmt.Sprintf(`"statuses":[{"id":"wamid.FORGED%d","status":"read","timestamp":"1763700150",
"recipient_id":"393331112222","biz_opaque_callback_data":"%s"}]`, i, ref)), `"PN1"`, `"`+chB.AccountID+`"`, 1)
		a.deliver(body)
	}
	got := a.byID(msgA.ID)
	if got.Status != "queued" || got.ExternalID != nil {
		t.Fatalf("A's message moved by B's statuses: status %s, external id %v", got.Status, got.ExternalID)
	}
	// On A's own channel a bare sequence number no longer reconciles; the signed reference does.
	a.deliver(waEnvelope(fmt.Sprintf(`"statuses":[{"id":"wamid.GUESS","status":"sent","timestamp":"1763700150","recipient_id":"393331112222","biz_opaque_callback_data":"sb:%d"}]`, msgA.ID)))
	if got := a.byID(msgA.ID); got.Status != "queued" {
		t.Fatalf("a guessed reference reconciled the message: %s", got.Status)
	}
	a.deliver(waEnvelope(fmt.Sprintf(`"statuses":[{"id":"wamid.REAL","status":"sent","timestamp":"1763700150","recipient_id":"393331112222","biz_opaque_callback_data":"%s"}]`, a.s.Cipher().CallbackRef(msgA.ID))))
	if got := a.message("wamid.REAL"); got.ID != msgA.ID || got.Status != "sent" {
		t.Fatalf("signed reference: message %d %s", got.ID, got.Status)
	}
}

func (e *env) byID(id int64) *models.Message {
	e.t.Helper()
	var m models.Message
	if err := e.s.Gorm(e.ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		e.t.Fatalf("message %d: %v", id, err)
	}
	return &m
}

// A payload for an account no channel owns is visible to no business, only
// to the operator.
func TestUnknownAccountIsOperatorOnly(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.process(strings.Replace(waText("393331112222", "wamid.U1", 1763700000, "who?"), `"PN1"`, `"PN-NOBODY"`, 1))
	if log, _ := e.s.WebhookLog(e.ctx, e.bizID, 10); len(log) != 0 {
		t.Fatalf("a business sees an unknown account's payload: %+v", log)
	}
	ops, err := e.s.OperatorWebhookLog(e.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Kind != models.ProblemUnknownAccount {
		t.Fatalf("operator log %+v", ops)
	}
}
