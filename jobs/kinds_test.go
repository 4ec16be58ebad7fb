package jobs_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// sent queues req and waits until Meta has it; it returns the body Meta received.
func (e *env) sent(c *customer, req jobs.SendRequest) map[string]any {
	e.t.Helper()
	req.BusinessID = e.biz.ID
	if req.ThreadID == 0 {
		req.ThreadID = c.thread.ID
	}
	before := len(e.sendsOf(c.account))
	m, err := e.pipe.Outbox().Send(e.ctx, req)
	if err != nil {
		e.t.Fatalf("send: %v", err)
	}
	e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
	sends := e.sendsOf(c.account)
	if len(sends) != before+1 {
		e.t.Fatalf("Meta received %d new sends, want 1", len(sends)-before)
	}
	return sends[len(sends)-1].Body()
}

func dig(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func TestWhatsAppKinds(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	if err := e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: c.channel.ID, Name: "order_ready",
		Language: "it", Category: "utility", Status: "approved", Body: "Ciao {{1}}, il tuo ordine {{2}} è pronto."}).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddTemplate(c.account, metasim.Template{Name: "order_ready", Language: "it", Category: "UTILITY"}); err != nil {
		t.Fatal(err)
	}

	body := e.sent(c, jobs.SendRequest{Automated: true, Template: &jobs.TemplateRequest{Name: "order_ready", Language: "it",
		Variables: []string{"Zoë", "#1042"}}})
	if dig(body, "template.name") != "order_ready" || dig(body, "template.language.code") != "it" ||
		!strings.Contains(string(mustJSON(dig(body, "template.components"))), "#1042") ||
		!strings.HasPrefix(body["biz_opaque_callback_data"].(string), "sb:") {
		t.Fatalf("template body %v", body)
	}
	body = e.sent(c, jobs.SendRequest{Text: "Ecco la foto", Attachments: []jobs.AttachmentRequest{{Kind: "image", URL: "https://cdn.example/red.jpg"}}})
	if dig(body, "image.link") != "https://cdn.example/red.jpg" || dig(body, "image.caption") != "Ecco la foto" {
		t.Fatalf("image body %v", body)
	}
	body = e.sent(c, jobs.SendRequest{Text: "Which size?", QuickReplies: []string{"S", "M", "L"}})
	if dig(body, "interactive.type") != "button" || len(dig(body, "interactive.action.buttons").([]any)) != 3 {
		t.Fatalf("buttons body %v", body)
	}
	body = e.sent(c, jobs.SendRequest{Text: "Pick a shop", List: &jobs.ListRequest{Button: "Shops", Sections: []jobs.ListSection{
		{Title: "Milano", Rows: []jobs.ListRow{{ID: "mi-1", Title: "Brera"}, {ID: "mi-2", Title: "Navigli"}}}}}})
	if dig(body, "interactive.type") != "list" || dig(body, "interactive.action.button") != "Shops" {
		t.Fatalf("list body %v", body)
	}

	// A group: the template goes to the group id with recipient_type group.
	const groupID = "120363025246125486"
	if err := e.sim.AddGroup(c.account, groupID, "393471234567"); err != nil {
		t.Fatal(err)
	}
	g, _, err := e.store.EnsureGroupThread(e.ctx, c.channel, groupID, "Clienti VIP", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddParticipant(e.ctx, g.ID, c.identity.ID, "member", testNow); err != nil {
		t.Fatal(err)
	}
	body = e.sent(c, jobs.SendRequest{ThreadID: g.ID, Automated: true, Template: &jobs.TemplateRequest{Name: "order_ready",
		Language: "it", Variables: []string{"tutti", "#1"}}})
	if body["recipient_type"] != "group" || body["to"] != groupID {
		t.Fatalf("group body %v", body)
	}
	// Interactive messages are not for groups: refused before Meta sees them.
	if _, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: g.ID, Text: "?", QuickReplies: []string{"a"}}); !isInvalid(err) {
		t.Fatalf("buttons to a group: %v", err)
	}

	// Read receipt with typing, then a reaction, on the customer's message.
	in := e.inbound(c, "wamid.IN1")
	if err := e.pipe.Outbox().Signal(e.ctx, jobs.SignalRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Action: jobs.SignalTypingOn}); err != nil {
		t.Fatal(err)
	}
	if err := e.pipe.Outbox().Signal(e.ctx, jobs.SignalRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Action: jobs.SignalReact,
		MessageID: in.ID, Emoji: "❤️", AuthorUserID: e.user()}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the read receipt and the reaction", func() bool {
		var read, react bool
		for _, s := range e.sim.Received() {
			read = read || (s.Action == "read" && s.Type == "typing" && s.Recipient == "wamid.IN1")
			react = react || (s.Type == "reaction" && dig(s.Body(), "reaction.message_id") == "wamid.IN1")
		}
		return read && react
	})
	if got := e.message(in.ID); len(got.Reactions) != 1 || got.Reactions[0].Emoji != "❤️" {
		t.Fatalf("the agent's reaction is not kept: %+v", got.Reactions)
	}
}

func TestMessengerKinds(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	body := e.sent(c, jobs.SendRequest{Text: "Which colour?", QuickReplies: []string{"Red", "Blue"}, AuthorUserID: e.user()})
	if len(dig(body, "message.quick_replies").([]any)) != 2 || body["messaging_type"] != "RESPONSE" ||
		!strings.HasPrefix(dig(body, "message.metadata").(string), "sb:") {
		t.Fatalf("quick replies body %v", body)
	}
	body = e.sent(c, jobs.SendRequest{Attachments: []jobs.AttachmentRequest{{Kind: "file", URL: "https://cdn.example/invoice.pdf"}}})
	if dig(body, "message.attachment.type") != "file" || dig(body, "message.attachment.payload.url") != "https://cdn.example/invoice.pdf" {
		t.Fatalf("file body %v", body)
	}
	body = e.sent(c, jobs.SendRequest{Automated: true, Proactive: true, OTNRequest: &jobs.OTNRequest{Title: "Back in stock?", Payload: "sku-42"}})
	if dig(body, "message.attachment.payload.template_type") != "one_time_notif_req" || body["messaging_type"] != "UPDATE" {
		t.Fatalf("OTN request body %v", body)
	}
	in := e.inbound(c, "m_IN1")
	for _, s := range []jobs.SignalRequest{{Action: jobs.SignalMarkSeen}, {Action: jobs.SignalTypingOn},
		{Action: jobs.SignalReact, MessageID: in.ID, Emoji: "love"}} {
		s.BusinessID, s.ThreadID, s.AuthorUserID = e.biz.ID, c.thread.ID, e.user()
		if err := e.pipe.Outbox().Signal(e.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("three sender actions", func() bool {
		seen := map[string]bool{}
		for _, s := range e.sim.Received() {
			seen[s.Action] = true
		}
		return seen["mark_seen"] && seen["typing_on"] && seen["react"]
	})
}

func TestMetaRefusalsAreClassified(t *testing.T) {
	e := newEnv(t, nil)
	reg := prometheus.NewRegistry()
	if err := e.pipe.Register(reg); err != nil {
		t.Fatal(err)
	}
	wa := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))

	// Permanent: failed with Meta's code and title, sent once.
	e.sim.FailNext(1, http.StatusBadRequest, 131026)
	m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: wa.thread.ID, Text: "permanent"})
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(m.ID, models.StatusFailed)
	if got.Error == nil || got.Error.Code != 131026 || got.Error.Title == "" {
		t.Fatalf("failure %+v", got.Error)
	}

	// Window closed at Meta while our facts say open: failed, no retry, a policy drift.
	if err := e.sim.SetLastUserMessage(wa.account, wa.identity.ExternalID, testNow.Add(-30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	m, err = e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: wa.thread.ID, Text: "drift"})
	if err != nil {
		t.Fatal(err)
	}
	got = e.waitStatus(m.ID, models.StatusFailed)
	if got.Error == nil || got.Error.Code != 131047 {
		t.Fatalf("window refusal %+v", got.Error)
	}
	if n := counter(t, reg, "switchboard_policy_drift_total"); n != 1 {
		t.Fatalf("policy drift counted %v times, want 1", n)
	}

	// 190: the channel needs re-authorisation and the message says so; after
	// reconnecting, Retry re-decides and sends it.
	e.wrote(wa, testNow.Add(-time.Hour))
	e.sim.RevokeToken("token-" + wa.account)
	m, err = e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: wa.thread.ID, Text: "token"})
	if err != nil {
		t.Fatal(err)
	}
	got = e.waitStatus(m.ID, models.StatusFailed)
	ch, _ := e.store.Channel(e.ctx, e.biz.ID, wa.channel.ID)
	if got.Error == nil || got.Error.Code != 190 || !strings.Contains(got.Error.Title, "reconnect") || ch.State != models.ChannelNeedsReauth {
		t.Fatalf("after 190: message %+v, channel %s", got.Error, ch.State)
	}
	if _, err := e.pipe.Outbox().Retry(e.ctx, e.biz.ID, m.ID); !isRefused(err, "channel_unauthorised") {
		t.Fatalf("retry before reconnecting: %v", err)
	}
	e.sim.RestoreToken("token-" + wa.account)
	if err := e.store.UpdateChannelToken(e.ctx, e.biz.ID, wa.channel.ID, "token-"+wa.account); err != nil {
		t.Fatal(err)
	}
	r, err := e.pipe.Outbox().Retry(e.ctx, e.biz.ID, m.ID)
	if err != nil || r.Status != models.StatusQueued || r.Error != nil {
		t.Fatalf("retry: %+v %v", r, err)
	}
	e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
	if n := countText(e.sendsOf(wa.account), "token"); n != 1 {
		t.Fatalf("Meta received the retried message %d times", n)
	}
}

// inbound stores a customer's message with Meta's id.
func (e *env) inbound(c *customer, ext string) *models.Message {
	e.t.Helper()
	m := &models.Message{BusinessID: e.biz.ID, ThreadID: c.thread.ID, ChannelID: &c.channel.ID, Direction: models.DirectionIn,
		App: c.app, Kind: "text", Text: "Ciao", ExternalID: &ext, SenderIdentityID: &c.identity.ID, SentAt: testNow.Add(-time.Hour),
		Status: models.StatusReceived}
	if err := e.store.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, m, nil); return err }); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// user is an agent of the business.
func (e *env) user() *int64 {
	e.t.Helper()
	u, err := e.store.UserByEmail(e.ctx, "agent@bottega.test")
	if err == nil && u == nil {
		u, err = e.store.CreateUser(e.ctx, e.biz.ID, "agent@bottega.test", "Giulia", "x", models.RoleAgent)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return &u.ID
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func isInvalid(err error) bool {
	var inv *jobs.InvalidError
	return errors.As(err, &inv)
}

func isRefused(err error, reason string) bool {
	var r *jobs.RefusedError
	return errors.As(err, &r) && string(r.Decision.Reason) == reason
}
