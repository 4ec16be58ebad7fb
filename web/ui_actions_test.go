package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

func TestComposerOffersOnlyWhatPolicyAllows(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	// WhatsApp (business B) outside the window: templates only.
	if err := e.store.Gorm(ctx).Exec(`INSERT INTO wa_templates (business_id, channel_id, name, language, category, body)
		VALUES (?, ?, 'order_update', 'it', 'utility', 'Ciao {{1}}, il tuo ordine {{2}} è pronto')`, e.b.biz.ID, e.b.channel.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.outbox.setDecisions(waTemplateOnly(e.b.identity.ID))
	cl := e.signIn(t, e.b.agent)
	_, body := cl.get("/inbox/threads/" + id(e.b.thread.ID))
	for _, want := range []string{`data-testid="template-picker"`, "order_update", `hx-target="#template-fields"`, "Only an approved WhatsApp template", `data-reason="template_required"`} {
		if !strings.Contains(body, want) {
			t.Errorf("outside the window: missing %s", want)
		}
	}
	for _, no := range []string{`data-testid="reply-text"`, `data-testid="human-agent"`, `data-testid="otn-request"`} {
		if strings.Contains(body, no) {
			t.Errorf("outside the window: offers %s", no)
		}
	}
	// A template send reaches the outbox with its variables.
	res := cl.post("/inbox/threads/"+id(e.b.thread.ID)+"/messages", url.Values{"template": {"order_update|it"}, "var": {"Anna", "A-12", ""}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("template send: %d", res.StatusCode)
	}
	sent := e.outbox.sends()
	if len(sent) != 1 || sent[0].Template == nil || sent[0].Template.Name != "order_update" || len(sent[0].Template.Variables) != 2 {
		t.Fatalf("sent %+v", sent)
	}

	// Messenger (business A) between 24 h and 7 days: text only with HUMAN_AGENT.
	e.outbox.setDecisions(policy.Decision{IdentityID: e.a.identity.ID, App: policy.AppMessenger, Allowed: true,
		MessagingType: policy.MessagingMessageTag, Tag: policy.TagHumanAgent, Reason: policy.ReasonOK,
		ExpiresAt: time.Now().Add(5 * 24 * time.Hour), Options: policy.OptionHumanAgent})
	ca := e.signIn(t, e.a.agent)
	_, body = ca.get("/inbox/threads/" + id(e.a.thread.ID))
	for _, want := range []string{`data-testid="reply-text"`, `data-testid="human-agent"`, "HUMAN_AGENT", `data-testid="policy-countdown"`} {
		if !strings.Contains(body, want) {
			t.Errorf("human agent window: missing %s", want)
		}
	}
	if strings.Contains(body, `data-testid="otn-request"`) || strings.Contains(body, `data-testid="template-picker"`) {
		t.Error("human agent window offers OTN or templates")
	}
	// Inside the window on Messenger: free text and "notify me".
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	_, body = ca.get("/inbox/threads/" + id(e.a.thread.ID))
	if !strings.Contains(body, `data-testid="otn-request"`) || strings.Contains(body, `data-testid="human-agent"`) {
		t.Error("inside the window: wrong offers")
	}
	res = ca.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"Sì, è disponibile"},
		"quick_replies": {"Compro, Più tardi"}, "attachment_url": {"https://cdn.example/p.jpg"}, "attachment_kind": {"image"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", res.StatusCode)
	}
	last := e.outbox.sends()[1]
	if last.Text != "Sì, è disponibile" || len(last.QuickReplies) != 2 || len(last.Attachments) != 1 || last.AuthorUserID == nil || *last.AuthorUserID != e.a.agent.ID {
		t.Errorf("request %+v", last)
	}
	if res := ca.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"x"}, "attachment_url": {"javascript:alert(1)"}}); res.StatusCode != 422 {
		t.Errorf("bad attachment URL: %d", res.StatusCode)
	}
	if res := ca.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"  "}}); res.StatusCode != 422 {
		t.Errorf("empty send: %d", res.StatusCode)
	}
}

func TestRefusedSendShowsReasonAndQueuesNothing(t *testing.T) {
	e := newUIEnv(t, true)
	refusal := policy.Decision{IdentityID: e.a.identity.ID, App: policy.AppMessenger, Reason: policy.ReasonHumanAgentExpired}
	e.outbox.mu.Lock()
	e.outbox.refuse = &refusal
	e.outbox.mu.Unlock()
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	cl := e.signIn(t, e.a.agent)
	req, _ := http.NewRequest("POST", cl.base+"/inbox/threads/"+id(e.a.thread.ID)+"/messages", strings.NewReader("text=hello"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	res, body := cl.do(req)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused: %d", res.StatusCode)
	}
	if !strings.Contains(body, "More than 7 days") || !strings.Contains(body, `data-testid="composer-error"`) || !strings.Contains(body, `data-testid="nothing-allowed"`) {
		t.Errorf("refusal not explained or text lost: %s", body)
	}
	if len(e.outbox.sends()) != 0 {
		t.Error("refused send recorded")
	}
}

func TestComposerWithoutOutboxSaysSendingUnavailable(t *testing.T) {
	e := newUIEnv(t, false)
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/inbox/threads/" + id(e.a.thread.ID))
	if !strings.Contains(body, `data-testid="sending-unavailable"`) || !strings.Contains(body, "estimated") {
		t.Error("no unavailable notice")
	}
	if res := cl.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"hi"}}); res.StatusCode != 503 {
		t.Errorf("send without outbox: %d", res.StatusCode)
	}
}

func TestThreadStatusAssignLabelsNotes(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	cl := e.signIn(t, e.a.agent)
	base := "/inbox/threads/" + id(e.a.thread.ID)
	if res := cl.post(base+"/status", url.Values{"status": {"pending"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	until := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	if res := cl.post(base+"/status", url.Values{"status": {"snoozed"}, "snoozed_until_utc": {until}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	th, _ := e.store.Thread(ctx, e.a.biz.ID, e.a.thread.ID)
	if th.Status != "snoozed" || th.SnoozedUntil == nil {
		t.Fatalf("snooze: %+v", th)
	}
	if res := cl.post(base+"/status", url.Values{"status": {"bogus"}}); res.StatusCode != 400 {
		t.Errorf("bad status: %d", res.StatusCode)
	}
	if res := cl.post(base+"/assign", url.Values{"assignee_id": {id(e.a.admin.ID)}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	if res := cl.post(base+"/assign", url.Values{"assignee_id": {id(e.b.agent.ID)}}); res.StatusCode != 400 {
		t.Errorf("assign to another business's user: %d", res.StatusCode)
	}
	if res := cl.post(base+"/labels", url.Values{"new_label": {"VIP"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	if res := cl.post(base+"/notes", url.Values{"body": {"Called her back, wants blue"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	_, body := cl.get(base)
	for _, want := range []string{"Called her back, wants blue", `data-testid="thread-label"`, "VIP", "Alpha admin"} {
		if !strings.Contains(body, want) {
			t.Errorf("thread page lacks %q", want)
		}
	}
	if res := cl.post(base+"/status", url.Values{"status": {"closed"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	th, _ = e.store.Thread(ctx, e.a.biz.ID, e.a.thread.ID)
	if th.Status != "closed" || th.AssigneeID == nil || *th.AssigneeID != e.a.admin.ID {
		t.Errorf("thread %+v", th)
	}
}

func TestRetryFailedSend(t *testing.T) {
	e := newUIEnv(t, true)
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	m := addMessage(t, e.store, e.a, "Did it arrive?", "out", time.Now())
	code := 551
	if _, err := e.store.AdvanceStatus(context.Background(), models.StatusUpdate{MessageID: m.ID, Status: "failed", At: time.Now(),
		ErrorCode: &code, ErrorTitle: "This person isn't available right now"}); err != nil {
		t.Fatal(err)
	}
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/inbox/threads/" + id(e.a.thread.ID))
	if !strings.Contains(body, "isn&#39;t available right now") || !strings.Contains(body, "Meta error 551") || !strings.Contains(body, `data-testid="retry"`) {
		t.Error("failed send not explained")
	}
	if res := cl.post("/inbox/messages/"+id(m.ID)+"/retry", nil); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	if r := e.outbox.retries(); len(r) != 1 || r[0] != m.ID {
		t.Errorf("retried %v", r)
	}
}

func TestSendAgainAnUnknownSend(t *testing.T) {
	e := newUIEnv(t, true)
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	m := addMessage(t, e.store, e.a, "Did it leave?", "out", time.Now())
	if err := e.store.Gorm(context.Background()).Exec(`UPDATE messages SET status = 'unknown' WHERE id = ?`, m.ID).Error; err != nil {
		t.Fatal(err)
	}
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/inbox/threads/" + id(e.a.thread.ID))
	if !strings.Contains(body, `data-testid="send-unknown"`) || !strings.Contains(body, `data-testid="send-again"`) {
		t.Fatal("unknown send not shown with send again")
	}
	if res := cl.post("/inbox/messages/"+id(m.ID)+"/retry", nil); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	if r := e.outbox.retries(); len(r) != 1 || r[0] != m.ID {
		t.Errorf("sent again %v", r)
	}
}

func TestMergeContactsKeepsOlderAndAudits(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	newer := &models.Contact{BusinessID: e.a.biz.ID, Name: "Anna on Instagram", Phone: "+393331234567"}
	if err := e.store.CreateContact(ctx, newer); err != nil {
		t.Fatal(err)
	}
	addIdentity(t, e.store, e.a, newer, "igsid-anna", "anna.b")
	cl := e.signIn(t, e.a.agent)
	_, body := cl.get("/contacts/" + id(e.a.contact.ID) + "?q=Anna")
	if !strings.Contains(body, `data-testid="merge-candidate"`) {
		t.Fatal("candidate not found")
	}
	res := cl.post("/contacts/"+id(newer.ID)+"/merge", url.Values{"other": {id(e.a.contact.ID)}})
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/contacts/"+id(e.a.contact.ID)) {
		t.Fatalf("merge: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	kept, _ := e.store.Contact(ctx, e.a.biz.ID, e.a.contact.ID)
	if len(kept.Identities) != 2 || kept.Phone != "+393331234567" {
		t.Errorf("kept %+v", kept)
	}
	gone, _ := e.store.Contact(ctx, e.a.biz.ID, newer.ID)
	if gone.MergedIntoID == nil || *gone.MergedIntoID != kept.ID || len(gone.Identities) != 0 {
		t.Errorf("merged-away contact %+v", gone)
	}
	evs, _ := e.store.AuditEvents(ctx, e.a.biz.ID, 10)
	if len(evs) != 1 || evs[0].Action != "contact.merge" || evs[0].UserID == nil || *evs[0].UserID != e.a.agent.ID {
		t.Errorf("audit %+v", evs)
	}
	if res, _ := cl.get("/contacts/" + id(newer.ID)); res.StatusCode != 303 {
		t.Errorf("merged contact page: %d", res.StatusCode)
	}
	if res := cl.post("/identities/"+id(e.a.identity.ID)+"/block", url.Values{"blocked": {"1"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	_, body = cl.get("/inbox/threads/" + id(e.a.thread.ID))
	if !strings.Contains(body, `data-testid="blocked"`) {
		t.Error("block not shown")
	}
}

func TestSettingsChannelsUsersTokensWebhooks(t *testing.T) {
	e := newUIEnv(t, false)
	ctx := context.Background()
	cl := e.signIn(t, e.a.admin)
	res := cl.post("/settings/channels", url.Values{"app": {"instagram"}, "account_id": {"ig-1784"}, "access_token": {"EAAG"},
		"app_secret": {"s3cret"}, "verify_token": {"paste-me"}})
	if res.StatusCode != 303 {
		t.Fatalf("connect: %d", res.StatusCode)
	}
	_, body := cl.get("/settings/channels")
	if !strings.Contains(body, "https://inbox.example/webhooks/instagram") || !strings.Contains(body, "paste-me") || strings.Contains(body, "s3cret") || strings.Contains(body, "EAAG") {
		t.Error("channel page: webhook URL/verify token missing or secret shown")
	}
	if err := e.store.SetChannelState(ctx, e.a.biz.ID, e.a.channel.ID, models.ChannelNeedsReauth, "token expired (190)"); err != nil {
		t.Fatal(err)
	}
	_, body = cl.get("/settings/channels")
	if !strings.Contains(body, `data-testid="needs-reauth"`) {
		t.Error("needs_reauth not shown")
	}
	_, body = cl.get("/inbox")
	if !strings.Contains(body, `data-testid="channel-alert"`) {
		t.Error("inbox lacks the reauth alert")
	}
	if res := cl.post("/settings/channels/"+id(e.a.channel.ID)+"/token", url.Values{"access_token": {"new-token"}}); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	ch, _ := e.store.Channel(ctx, e.a.biz.ID, e.a.channel.ID)
	if tok, _, _ := e.store.ChannelSecrets(ch); ch.State != "active" || tok != "new-token" {
		t.Errorf("reauth: %s %s", ch.State, tok)
	}

	if res := cl.post("/settings/users", url.Values{"email": {"luca@alpha.test"}, "password": {"long enough pw"}, "role": {"staff"}}); res.StatusCode != 303 {
		t.Fatalf("add user: %d", res.StatusCode)
	}
	if res := cl.post("/settings/users", url.Values{"email": {"luca@alpha.test"}, "password": {"long enough pw"}, "role": {"staff"}}); res.StatusCode != 409 {
		t.Errorf("duplicate user: %d", res.StatusCode)
	}
	if res := cl.post("/settings/users/"+id(e.a.agent.ID)+"/role", url.Values{"role": {"staff"}}); res.StatusCode != 303 {
		t.Errorf("role: %d", res.StatusCode)
	}
	if res := cl.post("/settings/users/"+id(e.a.admin.ID)+"/role", url.Values{"role": {"staff"}}); res.StatusCode != 400 {
		t.Errorf("own role: %d", res.StatusCode)
	}

	res, body = cl.postBody("/settings/tokens", url.Values{"name": {"zapier"}})
	if res.StatusCode != 201 || !strings.Contains(body, `data-testid="new-token"`) {
		t.Fatalf("token: %d", res.StatusCode)
	}
	_, body = cl.get("/settings/tokens")
	if strings.Contains(body, `data-testid="new-token"`) {
		t.Error("token shown twice")
	}
	toks, _ := e.store.APITokens(ctx, e.a.biz.ID)
	if res := cl.post("/settings/tokens/"+id(toks[0].ID)+"/revoke", nil); res.StatusCode != 303 {
		t.Errorf("revoke: %d", res.StatusCode)
	}
	btok, tb, _ := e.store.CreateAPIToken(ctx, e.b.biz.ID, "b")
	if res := cl.post("/settings/tokens/"+id(tb.ID)+"/revoke", nil); res.StatusCode != 404 {
		t.Errorf("revoke another business's token: %d", res.StatusCode)
	}
	if live, _ := e.store.APITokenByToken(ctx, btok); live == nil {
		t.Error("B's token was revoked")
	}

	// Problems are filed under the business each entry routed to; the log
	// shows a tenant its own and never a payload another tenant shares.
	for i, w := range []struct {
		body, reason string
		biz          []int64
	}{
		{`{"object":"page","entry":[{"id":"page-a","messaging":[]}]}`, "alpha broke", []int64{e.a.biz.ID}},
		{`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"phone-b"}}}]}]}`, "beta broke", []int64{e.b.biz.ID}},
		{`{"object":"page","entry":[{"id":"page-a"},{"id":"page-b","secret":"shared-b"}]}`, "shared broke", []int64{e.a.biz.ID, e.b.biz.ID}},
	} {
		var rawID int64
		if err := e.store.Gorm(ctx).Raw(`INSERT INTO raw_webhooks (app, body, signed_by) VALUES ('messenger', ?, 'app') RETURNING id`,
			[]byte(w.body)).Scan(&rawID).Error; err != nil {
			t.Fatal(err)
		}
		biz := w.biz[0]
		if err := e.store.FinishWebhooks(ctx, []models.WebhookOutcome{{ID: rawID, Outcome: "failed", Error: w.reason, BusinessIDs: w.biz,
			Problems: []models.WebhookProblem{{RawWebhookID: rawID, BusinessID: &biz, App: "messenger", Kind: "failed",
				EventType: "message", Error: w.reason + " " + strconv.Itoa(i)}}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, body = cl.get("/settings/webhooks")
	if !strings.Contains(body, "alpha broke") || strings.Contains(body, "beta broke") || !strings.Contains(body, "shared broke") ||
		strings.Contains(body, "shared-b") {
		t.Error("webhook log not scoped to the business's accounts")
	}
}

// TestReplyMarksTheThreadRead: a customer's message that arrives while the
// agent has the thread open counts as unread until the agent replies; the
// reply (even one the policy refuses: the agent read it to answer) clears
// it, and only in the agent's own business.
func TestReplyMarksTheThreadRead(t *testing.T) {
	e := newUIEnv(t, true)
	ctx := context.Background()
	e.outbox.setDecisions(openWindow(e.a.identity.ID, policy.AppMessenger))
	ca := e.signIn(t, e.a.agent)
	if res, _ := ca.get("/inbox/threads/" + id(e.a.thread.ID)); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	arrive := func(ext string) {
		t.Helper()
		m := &models.Message{BusinessID: e.a.biz.ID, ThreadID: e.a.thread.ID, ChannelID: &e.a.channel.ID, Direction: "in",
			App: "messenger", Kind: "text", ExternalID: &ext, Text: "still there?", SentAt: time.Now(), Status: "received",
			SenderIdentityID: &e.a.identity.ID}
		if _, err := e.store.AddInboundMessages(ctx, []*models.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	unread := func() int {
		t.Helper()
		th, err := e.store.Thread(ctx, e.a.biz.ID, e.a.thread.ID)
		if err != nil {
			t.Fatal(err)
		}
		return th.UnreadCount
	}
	arrive("mid.while-open")
	if n := unread(); n != 1 {
		t.Fatalf("unread %d after the customer wrote, want 1", n)
	}
	// Another business's agent cannot clear it through its own thread id space.
	cb := e.signIn(t, e.b.agent)
	if res := cb.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"hi"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another business's reply: %d, want 404", res.StatusCode)
	}
	if n := unread(); n != 1 {
		t.Errorf("unread %d after another business tried, want 1", n)
	}
	if res := ca.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"Yes, here!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	if n := unread(); n != 0 {
		t.Errorf("unread %d after the agent replied, want 0", n)
	}
	arrive("mid.after-reply")
	refusal := policy.Decision{IdentityID: e.a.identity.ID, App: policy.AppMessenger, Reason: policy.ReasonHumanAgentExpired}
	e.outbox.mu.Lock()
	e.outbox.refuse = &refusal
	e.outbox.mu.Unlock()
	if res := ca.post("/inbox/threads/"+id(e.a.thread.ID)+"/messages", url.Values{"text": {"and now?"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused reply: %d", res.StatusCode)
	}
	if n := unread(); n != 0 {
		t.Errorf("unread %d after a refused reply, want 0", n)
	}
}
