package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// withGroups wires the real relay and poll services (nothing is sent: the
// pipeline's workers do not run, legs stay queued).
func withGroups(t *testing.T, e *uiEnv) {
	t.Helper()
	p, err := jobs.New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{GraphURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.opts.Groups, e.srv.opts.Polls = p.Relay(), p.Polls()
}

// member adds a customer of business b who wrote a minute ago.
func member(t *testing.T, e *uiEnv, b uiBiz, name string) *models.Identity {
	t.Helper()
	c := &models.Contact{BusinessID: b.biz.ID, Name: name}
	if err := e.store.CreateContact(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	id := addIdentity(t, e.store, b, c, nextExt(), name)
	if err := e.store.RecordCustomerEvent(context.Background(), id.ID, "message", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestGroupFromTheInbox(t *testing.T) {
	e := newUIEnv(t, false)
	withGroups(t, e)
	agent := e.signIn(t, e.a.agent)
	giulia := member(t, e, e.a, "Giulia <script>alert(1)</script>")
	marco := member(t, e, e.a, "Marco")
	chiara := member(t, e, e.a, "Chiara") // last wrote 3 days ago: no relay reaches her
	if err := e.store.RecordCustomerEvent(context.Background(), chiara.ID, "message", time.Now().Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(context.Background()).Exec(`UPDATE identity_events SET last_at = ? WHERE identity_id = ?`,
		time.Now().Add(-72*time.Hour), chiara.ID).Error; err != nil {
		t.Fatal(err)
	}

	// The page is reachable from the navigation and finds customers by name.
	_, home := agent.get("/inbox")
	if !strings.Contains(home, `href="/inbox/groups/new"`) {
		t.Fatal("no New group link in the navigation")
	}
	_, page := agent.get("/inbox/groups/new?q=marco")
	if !strings.Contains(page, `data-testid="new-group"`) || !strings.Contains(page, ">Marco</label>") && !strings.Contains(page, " Marco") {
		t.Fatalf("search did not find Marco: %s", page)
	}
	if strings.Contains(page, "Giulia") {
		t.Fatal("search for marco lists Giulia")
	}

	// Fewer than two: the form again, with the reason.
	resp, body := agent.postBody("/inbox/groups", url.Values{"title": {"Solo"}, "identity_id": {id(giulia.ID)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="group-error"`) {
		t.Fatalf("group of one: %d", resp.StatusCode)
	}
	// Another business's customer: 404.
	if resp := agent.post("/inbox/groups", url.Values{"title": {"Mix"}, "identity_id": {id(giulia.ID), id(e.b.identity.ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("group with business B's customer: %d", resp.StatusCode)
	}

	resp = agent.post("/inbox/groups", url.Values{"title": {"Abito da sposa"}, "identity_id": {id(giulia.ID), id(marco.ID), id(chiara.ID)}})
	groupPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(groupPath, "/inbox/threads/") {
		t.Fatalf("create: %d %s", resp.StatusCode, groupPath)
	}
	_, thread := agent.get(groupPath)
	for _, want := range []string{`data-testid="group-panel"`, `data-reachable="true"`, `data-testid="poll-composer"`,
		"Giulia &lt;script&gt;alert(1)&lt;/script&gt;", "joined", `data-testid="legs"`,
		`data-reachable="false"`, `data-testid="leg-refused"`, "Not delivered to Chiara on Messenger", "window closed", ">2 days before this message</time>)"} {
		if !strings.Contains(thread, want) {
			t.Errorf("group thread lacks %s", want)
		}
	}
	if strings.Contains(thread, "<script>alert(1)") {
		t.Fatal("a customer's name was not escaped")
	}
	if n := strings.Count(thread, `data-testid="group-member"`); n != 3 {
		t.Fatalf("%d members shown", n)
	}

	// Giulia's direct thread points at the group.
	gt, _, err := e.store.EnsureDirectThread(context.Background(), giulia, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, direct := agent.get("/inbox/threads/" + id(gt.ID)); !strings.Contains(direct, `data-testid="group-pointer"`) {
		t.Fatal("the member's direct thread has no pointer to the group")
	}

	// The agent's message goes to both, one leg each.
	agent.post(groupPath+"/messages", url.Values{"text": {"La prova è sabato"}})
	_, thread = agent.get(groupPath)
	if !strings.Contains(thread, "La prova è sabato") || strings.Count(thread, `data-testid="leg"`) < 4 {
		t.Fatalf("agent post or its legs missing (%d legs)", strings.Count(thread, `data-testid="leg"`))
	}

	// A poll from the composer, then a bad one (one option) shown as the composer's error.
	agent.post(groupPath+"/polls", url.Values{"question": {"Which fitting day?"}, "options": {"Saturday\nSunday\n"}})
	_, thread = agent.get(groupPath)
	if !strings.Contains(thread, `data-testid="poll-card"`) || strings.Count(thread, `data-testid="poll-option"`) != 2 {
		t.Fatal("the poll's tally is not in the group thread")
	}
	resp, body = agent.postBody(groupPath+"/polls", url.Values{"question": {"Q"}, "options": {"only one"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "options given: 1; 2 to 10 allowed") {
		t.Fatalf("one-option poll: %d", resp.StatusCode)
	}

	// Remove a member; the panel lists one.
	gid := strings.TrimPrefix(groupPath, "/inbox/threads/")
	agent.post("/inbox/threads/"+gid+"/members/"+id(marco.ID)+"/remove", url.Values{})
	if _, thread = agent.get(groupPath); strings.Count(thread, `data-testid="group-member"`) != 2 {
		t.Fatal("the removed member is still listed")
	}
	// Business B's agent cannot see or change the group.
	other := e.signIn(t, e.b.agent)
	if resp, _ := other.get(groupPath); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("business B sees the group: %d", resp.StatusCode)
	}
	if resp := other.post("/inbox/threads/"+gid+"/members", url.Values{"identity_id": {id(e.b.identity.ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("business B adds to the group: %d", resp.StatusCode)
	}
}

func TestGroupPageInItalian(t *testing.T) {
	e := newUIEnv(t, false)
	withGroups(t, e)
	if err := e.store.Gorm(context.Background()).Exec(`UPDATE users SET locale = 'it' WHERE id = ?`, e.a.agent.ID).Error; err != nil {
		t.Fatal(err)
	}
	agent := e.signIn(t, e.a.agent)
	if _, page := agent.get("/inbox/groups/new"); !strings.Contains(page, "Nuovo gruppo inoltrato") || !strings.Contains(page, "Crea gruppo") {
		t.Fatal("the new-group page is not in Italian")
	}
}

// A vote re-renders the poll's message on the open thread's socket.
func TestPollTallyIsLive(t *testing.T) {
	e := newUIEnv(t, false)
	withGroups(t, e)
	startLive(t, e)
	ctx := context.Background()
	if err := e.store.RecordCustomerEvent(ctx, e.a.identity.ID, "message", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := e.srv.opts.Polls.Create(ctx, jobs.PollRequest{BusinessID: e.a.biz.ID, ThreadID: e.a.thread.ID,
		Question: "Which colour?", Options: []string{"Ivory", "Blush"}})
	if err != nil {
		t.Fatal(err)
	}
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli())
	ws, _, err := e.signIn(t, e.a.agent).dialWS("/ws?thread=" + id(e.a.thread.ID) + since)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitClients(t, e, 1)
	if err := e.store.InTx(ctx, func(tx *models.Store) error {
		return tx.CastVote(ctx, models.Vote{BusinessID: e.a.biz.ID, PollID: p.ID, Position: 2, IdentityID: e.a.identity.ID,
			App: models.AppMessenger, At: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	frame := readUntil(t, ws, `data-testid="poll-card"`)
	if !strings.Contains(frame, `id="msg-`+id(*p.MessageID)+`"`) || !strings.Contains(frame, "1 vote<") {
		t.Fatalf("tally frame: %s", frame)
	}
}

// A leg's status change re-renders its group message on the group's socket.
func TestLegStatusIsLive(t *testing.T) {
	e := newUIEnv(t, false)
	withGroups(t, e)
	startLive(t, e)
	ctx := context.Background()
	a, b := member(t, e, e.a, "Anna"), member(t, e, e.a, "Bea")
	g, err := e.srv.opts.Groups.CreateGroup(ctx, e.a.biz.ID, nil, "Prova", []int64{a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	var leg struct{ GroupMessageID, LegMessageID int64 }
	if err := e.store.Gorm(ctx).Raw(`SELECT group_message_id, leg_message_id FROM relay_legs WHERE identity_id = ?`, a.ID).
		Scan(&leg).Error; err != nil || leg.LegMessageID == 0 {
		t.Fatalf("no leg: %v", err)
	}
	since := "&since=" + id(time.Now().Add(time.Minute).UnixMilli())
	ws, _, err := e.signIn(t, e.a.agent).dialWS("/ws?thread=" + id(g.ID) + since)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitClients(t, e, 1)
	if _, err := e.store.AdvanceStatus(ctx, models.StatusUpdate{MessageID: leg.LegMessageID, Status: "delivered", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	frame := readUntil(t, ws, `id="msg-`+id(leg.GroupMessageID)+`"`)
	if !strings.Contains(frame, `class="ticks delivered"`) {
		t.Fatalf("group message frame without the leg's tick: %s", frame)
	}
}

// POST /api/v1/threads/{id}/messages on a relay group is the group's send:
// stored in the group, one leg per member; anything but text is refused.
func TestThreadSendAPIOnARelayGroup(t *testing.T) {
	e := newUIEnv(t, true)
	withGroups(t, e)
	ctx := context.Background()
	giulia, marco := member(t, e, e.a, "Giulia"), member(t, e, e.a, "Marco")
	g, err := e.srv.opts.Groups.CreateGroup(ctx, e.a.biz.ID, nil, "Abito", []int64{giulia.ID, marco.ID})
	if err != nil {
		t.Fatal(err)
	}
	token := apiToken(t, e, e.a)
	status, body := apiCall(t, e, token, "POST", "/api/v1/threads/"+id(g.ID)+"/messages", []byte(`{"text":"Ciao a tutte"}`))
	if status != http.StatusCreated || body["text"] != "Ciao a tutte" || body["thread_id"] != float64(g.ID) {
		t.Fatalf("send to the group: %d %v", status, body)
	}
	legs, _ := body["legs"].([]any)
	if len(legs) != 2 {
		t.Fatalf("legs %v", body["legs"])
	}
	for _, l := range legs {
		if l := l.(map[string]any); l["status"] != models.StatusQueued || l["refusal"] != "" {
			t.Fatalf("leg %v", l)
		}
	}
	if len(e.outbox.sent) != 0 {
		t.Fatalf("the group send went to the outbox as a thread send: %+v", e.outbox.sent)
	}
	status, body = apiCall(t, e, token, "POST", "/api/v1/threads/"+id(g.ID)+"/messages",
		[]byte(`{"text":"Ciao","quick_replies":["Sì","No"]}`))
	if status != http.StatusBadRequest {
		t.Fatalf("quick replies to a group: %d %v", status, body)
	}
	// Another business's token does not find the group: its send is an
	// ordinary one (the outbox scopes it and finds no thread).
	apiCall(t, e, apiToken(t, e, e.b), "POST", "/api/v1/threads/"+id(g.ID)+"/messages", []byte(`{"text":"Ciao"}`))
	if len(e.outbox.sent) != 1 {
		t.Fatalf("business B's send took the group path")
	}
}

// The leave words are a per-business setting on the Settings page (admins).
func TestLeaveWordsSetting(t *testing.T) {
	e := newUIEnv(t, false)
	admin := e.signIn(t, e.a.admin)
	resp, page := admin.get("/settings/groups")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `value="esci, leave"`) || !strings.Contains(page, `href="/settings/groups"`) {
		t.Fatalf("groups settings: %d", resp.StatusCode)
	}
	if resp := admin.post("/settings/groups", url.Values{"leave_words": {"Basta, STOP ,basta"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if words, _ := e.store.RelayLeaveWords(context.Background(), e.a.biz.ID); strings.Join(words, ",") != "basta,stop" {
		t.Fatalf("saved words %v", words)
	}
	if words, _ := e.store.RelayLeaveWords(context.Background(), e.b.biz.ID); strings.Join(words, ",") != "esci,leave" {
		t.Fatalf("business B's words changed: %v", words)
	}
	resp, body := admin.postBody("/settings/groups", url.Values{"leave_words": {"two words"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="settings-error"`) {
		t.Fatalf("a phrase as a leave word: %d", resp.StatusCode)
	}
	if resp := e.signIn(t, e.a.agent).post("/settings/groups", url.Values{"leave_words": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent changed the leave words: %d", resp.StatusCode)
	}
}

// A poll the composer refuses says why in the agent's language.
func TestPollErrorsInTheAgentsLanguage(t *testing.T) {
	e := newUIEnv(t, false)
	withGroups(t, e)
	agent := e.signIn(t, e.a.agent)
	if res := agent.post("/account/locale", url.Values{"locale": {"it"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("locale: %d", res.StatusCode)
	}
	path := "/inbox/threads/" + id(e.a.thread.ID) + "/polls"
	for _, c := range []struct {
		options, want string
	}{
		{"Sabato\nSabato", "l&#39;opzione 2 è uguale a una precedente"},
		{"Solo una", "opzioni date: 1; ne servono da 2 a 10"},
	} {
		res, body := agent.postBody(path, url.Values{"question": {"Quale giorno?"}, "options": {c.options}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Il sondaggio non può essere inviato: "+c.want) {
			t.Errorf("options %q: %d, want the Italian %q", c.options, res.StatusCode, c.want)
		}
	}
}
