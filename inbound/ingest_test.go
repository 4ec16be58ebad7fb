package inbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

type env struct {
	t     *testing.T
	s     *models.Store
	ch    *models.Channel
	proc  *inbound.Processor
	ctx   context.Context
	bizID int64
}

func newEnv(t *testing.T, app, account string) *env {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Acme")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: app, AccountID: account, AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, ch: ch, ctx: ctx, bizID: biz.ID,
		proc: inbound.NewProcessor(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 50)}
}

// deliver stores payloads as the webhook endpoint would and processes them.
func (e *env) deliver(payloads ...string) {
	e.t.Helper()
	for _, p := range payloads {
		if err := e.s.Gorm(e.ctx).Exec(`INSERT INTO raw_webhooks (app, body, signed_by) VALUES (?, ?, 'app')`, e.ch.App, []byte(p)).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.proc.ProcessPending(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	var bad []models.RawWebhook
	e.s.Gorm(e.ctx).Where("outcome <> 'processed'").Find(&bad)
	for _, b := range bad {
		e.t.Fatalf("payload %d: %s %s", b.ID, b.Outcome, b.Error)
	}
}

func (e *env) message(ext string) *models.Message {
	e.t.Helper()
	var m models.Message
	if err := e.s.Gorm(e.ctx).Where("channel_id = ? AND external_id = ?", e.ch.ID, ext).Take(&m).Error; err != nil {
		e.t.Fatalf("message %s: %v", ext, err)
	}
	return &m
}

func waEnvelope(value string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
"metadata":{"display_phone_number":"390200000000","phone_number_id":"PN1"},` + value + `}}]}]}`
}

func waText(from, wamid string, ts int64, text string) string {
	return waEnvelope(fmt.Sprintf(`"contacts":[{"profile":{"name":"Anna"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%d","type":"text","text":{"body":"%s"}}]`,
		from, from, wamid, ts, text))
}

func waStatus(wamid, status string, ts int64) string {
	return waEnvelope(fmt.Sprintf(`"statuses":[{"id":"%s","status":"%s","timestamp":"%d","recipient_id":"393331112222",
"pricing":{"billable":false,"pricing_model":"PMP","category":"service","type":"free_customer_service"}}]`, wamid, status, ts))
}

// outbound stores a message we sent (as the send pipeline would).
func (e *env) outbound(ext string) *models.Message {
	e.t.Helper()
	e.deliver(waText("393331112222", "wamid.IN1", 1763700000, "hello"))
	in := e.message("wamid.IN1")
	m := &models.Message{BusinessID: e.bizID, ThreadID: in.ThreadID, ChannelID: &e.ch.ID, Direction: "out", App: e.ch.App,
		Kind: "text", Text: "reply", SentAt: time.Unix(1763700100, 0), Status: "queued"}
	if ext != "" {
		m.ExternalID = &ext
	}
	if err := e.s.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, m, nil); return err }); err != nil {
		e.t.Fatal(err)
	}
	if ext != "" {
		if _, err := e.s.AdvanceStatus(e.ctx, models.StatusUpdate{MessageID: m.ID, Status: "sent", At: m.SentAt}); err != nil {
			e.t.Fatal(err)
		}
	}
	return m
}

func TestStatusesOutOfOrderNeverGoBack(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.outbound("wamid.OUT1")
	e.deliver(waStatus("wamid.OUT1", "read", 1763700300), waStatus("wamid.OUT1", "delivered", 1763700200),
		waStatus("wamid.OUT1", "read", 1763700300), waStatus("wamid.OUT1", "sent", 1763700150))
	if got := e.message("wamid.OUT1"); got.Status != "read" {
		t.Fatalf("status %s, want read", got.Status)
	}
	var n int64
	e.s.Gorm(e.ctx).Table("message_statuses").Where("message_id = ?", e.message("wamid.OUT1").ID).Count(&n)
	if n != 3 { // sent, delivered, read; the replayed read adds nothing
		t.Fatalf("%d status rows, want 3", n)
	}
}

func TestCallbackDataReconcilesAnUnconfirmedSend(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	m := e.outbound("") // the worker timed out: Meta's id never reached us
	body := waEnvelope(fmt.Sprintf(`"statuses":[{"id":"wamid.LATE","status":"sent","timestamp":"1763700150","recipient_id":"393331112222","biz_opaque_callback_data":"%s"}]`, e.s.Cipher().CallbackRef(m.ID)))
	e.deliver(body, body)
	got := e.message("wamid.LATE")
	if got.ID != m.ID || got.Status != "sent" {
		t.Fatalf("reconciled message %d status %s, want %d sent", got.ID, got.Status, m.ID)
	}
}

func TestLateRetryDoesNotReopenWindow(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.deliver(waText("393331112222", "wamid.NEW", 1763700000, "new"), waText("393331112222", "wamid.OLD", 1763600000, "old, retried late"))
	var last time.Time
	e.s.Gorm(e.ctx).Raw(`SELECT last_at FROM identity_events WHERE kind = 'message'`).Scan(&last)
	if !last.Equal(time.Unix(1763700000, 0)) {
		t.Fatalf("window fact %v, want the newest message's Meta time", last)
	}
	var th models.Thread
	e.s.Gorm(e.ctx).Take(&th)
	if th.LastMessagePreview != "new" {
		t.Fatalf("preview %q: an older message replaced the newest", th.LastMessagePreview)
	}
}

func TestNumberChangeKeepsHistory(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	e.deliver(waText("393331112222", "wamid.A", 1763700000, "before"))
	before := e.message("wamid.A")
	e.deliver(waEnvelope(`"messages":[{"from":"393331112222","id":"wamid.SYS","timestamp":"1763700500","type":"system",
"system":{"body":"Anna changed their phone number","wa_id":"393339998888","type":"user_changed_number"}}]`))
	e.deliver(waText("393339998888", "wamid.B", 1763700600, "after"))
	after := e.message("wamid.B")
	if after.ThreadID != before.ThreadID {
		t.Fatal("the new number started a new thread: history lost")
	}
	var ids []models.Identity
	e.s.Gorm(e.ctx).Find(&ids)
	if len(ids) != 1 || ids[0].ExternalID != "393339998888" || ids[0].Phone != "+393339998888" {
		t.Fatalf("identities %+v", ids)
	}
}

func TestMessengerWatermarksAndEcho(t *testing.T) {
	e := newEnv(t, "messenger", "PAGE1")
	msg := func(mid string, ts int64) string {
		return fmt.Sprintf(`{"object":"page","entry":[{"id":"PAGE1","time":%d,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":%d,"message":{"mid":"%s","text":"hi"}}]}]}`, ts, ts, mid)
	}
	e.deliver(msg("m_in", 1763700000000))
	in := e.message("m_in")
	out := &models.Message{BusinessID: e.bizID, ThreadID: in.ThreadID, ChannelID: &e.ch.ID, Direction: "out", App: "messenger",
		Kind: "text", Text: "reply", SentAt: time.UnixMilli(1763700001000), Status: "queued"}
	if err := e.s.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, out, nil); return err }); err != nil {
		t.Fatal(err)
	}
	echo := fmt.Sprintf(`{"object":"page","entry":[{"id":"PAGE1","time":1763700002000,"messaging":[{"sender":{"id":"PAGE1"},"recipient":{"id":"PSID1"},
"timestamp":1763700002000,"message":{"mid":"m_out","is_echo":true,"app_id":123,"metadata":"%s","text":"reply"}}]}]}`, e.s.Cipher().CallbackRef(out.ID))
	delivery := `{"object":"page","entry":[{"id":"PAGE1","time":1763700003000,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
"timestamp":1763700003000,"delivery":{"watermark":1763700002500}}]}]}`
	read := `{"object":"page","entry":[{"id":"PAGE1","time":1763700004000,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
"timestamp":1763700004000,"read":{"watermark":1763700003500}}]}]}`
	e.deliver(echo, echo, read, delivery)
	got := e.message("m_out")
	if got.ID != out.ID || got.Status != "read" {
		t.Fatalf("echo matched message %d (want %d), status %s (want read)", got.ID, out.ID, got.Status)
	}
	var n int64
	e.s.Gorm(e.ctx).Model(&models.Message{}).Where("direction = 'out'").Count(&n)
	if n != 1 {
		t.Fatalf("%d outbound messages: the echo of our own send was duplicated", n)
	}
}
