package jobs_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// poll sends a poll through the API and returns its id.
func (e *env) poll(threadID int64, question string, options []string, multiple bool) int64 {
	e.t.Helper()
	status, body := e.post("/api/v1/threads/"+strconv.FormatInt(threadID, 10)+"/polls",
		map[string]any{"question": question, "options": options, "multiple": multiple})
	if status != 201 {
		e.t.Fatalf("create poll: %d %v", status, body)
	}
	return idOf(e.t, body)
}

// tally is GET /api/v1/polls/{id}: votes per option index (1-based) in total and by app.
func (e *env) tally(pollID int64) (votes map[int]int, byApp map[int]map[string]int, body map[string]any) {
	e.t.Helper()
	status, body := e.get("/api/v1/polls/" + strconv.FormatInt(pollID, 10))
	if status != 200 {
		e.t.Fatalf("get poll: %d %v", status, body)
	}
	votes, byApp = map[int]int{}, map[int]map[string]int{}
	opts, _ := body["options"].([]any)
	for _, o := range opts {
		o := o.(map[string]any)
		i := int(o["index"].(float64))
		votes[i] = int(o["votes"].(float64))
		byApp[i] = map[string]int{}
		for app, n := range o["by_app"].(map[string]any) {
			byApp[i][app] = int(n.(float64))
		}
	}
	return votes, byApp, body
}

// tap taps option i (0-based) of the poll message the customer received last.
func (e *env) tap(c *customer, s metasim.Send, i int) {
	e.t.Helper()
	choices := metasim.ChoicesOf(s)
	if i >= len(choices) {
		e.t.Fatalf("the %s poll offers %d choices: %s", c.app, len(choices), s.Raw)
	}
	kind := "quick_reply"
	if c.app == models.AppWhatsApp {
		kind = "button_reply"
		if dig(s.Body(), "interactive.type") == "list" {
			kind = "list_reply"
		}
	}
	e.says(c, kind, choices[i].Title, &choices[i])
}

func TestPollRenderedPerApp(t *testing.T) {
	e := newEnv(t, nil)
	wa := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	ms := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	ig := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	long := "Saturday 14 in the morning, before lunch"

	// WhatsApp, 3 options: reply buttons carrying signed payloads.
	e.poll(wa.thread.ID, "Which colour?", []string{"Ivory", "Champagne", "Blush"}, false)
	s := e.waitSend(wa, "Which colour?")
	if dig(s.Body(), "interactive.type") != "button" {
		t.Fatalf("WhatsApp 3 options: %s", s.Raw)
	}
	for _, c := range metasim.ChoicesOf(s) {
		if !strings.HasPrefix(c.ID, "poll:") {
			t.Fatalf("button id %q is not a poll payload", c.ID)
		}
	}
	// WhatsApp, 5 options: a list, long titles shortened with the full text as description.
	e.poll(wa.thread.ID, "Which day?", []string{long, "Sunday 15", "Monday 16", "Tuesday 17", "Wednesday 18"}, false)
	s = e.waitSend(wa, "Which day?")
	rows, _ := dig(s.Body(), "interactive.action.sections").([]any)
	if dig(s.Body(), "interactive.type") != "list" || len(rows) != 1 {
		t.Fatalf("WhatsApp 5 options: %s", s.Raw)
	}
	row := rows[0].(map[string]any)["rows"].([]any)[0].(map[string]any)
	if row["title"] != "Saturday 14 in the morn…" || !strings.HasPrefix(row["description"].(string), "Saturday 14 in the morning") {
		t.Fatalf("list row %v", row)
	}
	// Messenger and Instagram: quick replies, titles ≤20 with "…", the full options numbered in the text.
	for _, c := range []*customer{ms, ig} {
		e.poll(c.thread.ID, "Which day?", []string{long, "Sunday 15"}, false)
		s := e.waitSend(c, "Which day?")
		qr := metasim.ChoicesOf(s)
		if len(qr) != 2 || qr[0].Title != "Saturday 14 in the…" || len([]rune(qr[0].Title)) > 20 {
			t.Fatalf("%s quick replies %+v", c.app, qr)
		}
		if !strings.Contains(s.Text, "1. "+long) || !strings.Contains(s.Text, "2. Sunday 15") {
			t.Fatalf("%s text %q", c.app, s.Text)
		}
	}
	// A native WhatsApp group takes no interactive messages: numbered text.
	in := e.says(wa, "group_text", "Ciao a tutti", nil) // opens the group's window at Meta
	g, err := e.store.Thread(e.ctx, e.biz.ID, in.ThreadID)
	if err != nil || g.Kind != "group" || g.ExternalGroupID == nil {
		t.Fatalf("group thread %+v %v", g, err)
	}
	groupID := *g.ExternalGroupID
	gp := e.poll(g.ID, "Which venue?", []string{"Villa", "Castello"}, false)
	var gpm models.Poll
	e.store.Gorm(e.ctx).First(&gpm, gp)
	if m := e.waitStatus(*gpm.MessageID, "sent", "delivered", "read", "failed"); m.Status == "failed" {
		t.Fatalf("group poll failed: %v", m.Error)
	}
	var gs metasim.Send
	e.waitFor("the group poll", func() bool {
		for _, snd := range e.sendsOf(wa.account) {
			if snd.Recipient == groupID && strings.Contains(snd.Text, "Which venue?") {
				gs = snd
				return true
			}
		}
		return false
	})
	if gs.Type != "text" || !strings.Contains(gs.Text, "1. Villa\n2. Castello") || !strings.Contains(gs.Text, "Reply with the number") {
		t.Fatalf("group poll: %s %q", gs.Type, gs.Text)
	}
	// A participant answers in the group with the number alone: a vote.
	e.says(wa, "group_text", "2", nil)
	if votes, byApp, _ := e.tally(gp); votes[1] != 0 || votes[2] != 1 || byApp[2]["whatsapp"] != 1 {
		t.Fatalf("a number in the native group: tally %v %v", votes, byApp)
	}
}

func TestPollVotesInARelayGroup(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	gid := e.group("Wedding dress", bride, mother, sister)
	pid := e.poll(gid, "Which fitting day?", []string{"Saturday", "Sunday", "Monday"}, false)
	sb, sm, ss := e.waitSend(bride, "Which fitting day?"), e.waitSend(mother, "Which fitting day?"), e.waitSend(sister, "Which fitting day?")

	e.tap(bride, sb, 0)  // WhatsApp button: Saturday
	e.tap(mother, sm, 1) // Messenger quick reply: Sunday
	e.says(sister, "text", "2", nil)
	votes, byApp, _ := e.tally(pid)
	if votes[1] != 1 || votes[2] != 2 || byApp[1]["whatsapp"] != 1 || byApp[2]["messenger"] != 1 || byApp[2]["instagram"] != 1 {
		t.Fatalf("tally %v %v", votes, byApp)
	}
	// A vote is not relayed to the others.
	if n := e.sendsTo(mother, ": 2"); n != 0 {
		t.Fatalf("the sister's vote was relayed")
	}
	// One current vote: changing it moves it.
	e.tap(mother, sm, 2)
	if votes, _, body := e.tally(pid); votes[2] != 1 || votes[3] != 1 || body["voters"].(float64) != 3 {
		t.Fatalf("after the change: %v %v", votes, body)
	}
	_ = ss

	// Closed: later votes are kept as messages, not counted.
	status, body := e.post("/api/v1/polls/"+strconv.FormatInt(pid, 10)+"/close", map[string]any{"announce": true})
	if status != 200 || body["closed"] != true {
		t.Fatalf("close: %d %v", status, body)
	}
	e.waitSend(bride, "Results: Which fitting day?")
	e.tap(bride, sb, 2)
	if votes, _, _ := e.tally(pid); votes[1] != 1 || votes[3] != 1 {
		t.Fatalf("a vote after close counted: %v", votes)
	}
	if m := e.lastIn(gid); m.Kind != "interactive_reply" || *m.SenderIdentityID != bride.identity.ID {
		t.Fatalf("the late vote is not kept as a message: %+v", m)
	}
}

func TestPollMultipleChoiceAndForgedPayloads(t *testing.T) {
	e := newEnv(t, nil)
	ms := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	ig := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	multi := e.poll(ms.thread.ID, "Which extras?", []string{"Veil", "Gloves", "Train"}, true)
	s := e.waitSend(ms, "Which extras?")
	e.tap(ms, s, 0)
	e.tap(ms, s, 2)
	e.tap(ms, s, 0) // again: still one vote for it
	if votes, _, body := e.tally(multi); votes[1] != 1 || votes[2] != 0 || votes[3] != 1 || body["voters"].(float64) != 1 {
		t.Fatalf("multiple choice: %v %v", votes, body)
	}

	// The payload of the Messenger poll replayed on Instagram's poll: ignored, kept as a message.
	other := e.poll(ig.thread.ID, "Which day?", []string{"Saturday", "Sunday"}, false)
	e.waitSend(ig, "Which day?")
	stolen := metasim.ChoicesOf(s)[1]
	e.says(ig, "quick_reply", stolen.Title, &stolen)
	if votes, _, _ := e.tally(other); votes[1]+votes[2] != 0 {
		t.Fatalf("a payload of another poll counted: %v", votes)
	}
	if votes, _, _ := e.tally(multi); votes[2] != 0 {
		t.Fatalf("a payload tapped in another thread counted on its own poll: %v", votes)
	}
	// A payload of another business, and an invented one.
	forged := []metasim.Choice{
		{ID: e.store.Cipher().PollChoiceRef(e.biz.ID+1, other, 1), Title: "Saturday"},
		{ID: "poll:" + strconv.FormatInt(e.biz.ID, 10) + "." + strconv.FormatInt(other, 10) + ".1.AAAAAAAAAAAAAAAAAAAAAA", Title: "Saturday"},
	}
	for _, f := range forged {
		e.says(ig, "quick_reply", f.Title, &f)
	}
	if votes, _, _ := e.tally(other); votes[1]+votes[2] != 0 {
		t.Fatalf("a forged payload counted: %v", votes)
	}
	if m := e.lastIn(ig.thread.ID); m.Text != "Saturday" {
		t.Fatalf("the forged tap is not kept as a message: %q", m.Text)
	}
	// A number beyond the options is an ordinary message.
	e.says(ig, "text", "7", nil)
	if votes, _, _ := e.tally(other); votes[1]+votes[2] != 0 {
		t.Fatalf("an out-of-range number counted: %v", votes)
	}
}

func TestPollAndGroupBadInput(t *testing.T) {
	e := newEnv(t, nil)
	ms := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	path := "/api/v1/threads/" + strconv.FormatInt(ms.thread.ID, 10) + "/polls"
	ten := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	cases := []struct {
		name    string
		body    map[string]any
		field   string
		status  int
		against string
	}{
		{"one option", map[string]any{"question": "Q?", "options": []string{"only"}}, "options", 422, path},
		{"eleven options", map[string]any{"question": "Q?", "options": append(ten, "11")}, "options", 422, path},
		{"an empty option", map[string]any{"question": "Q?", "options": []string{"a", " "}}, "options[1]", 422, path},
		{"a duplicate option", map[string]any{"question": "Q?", "options": []string{"Sì", "sì"}}, "options[1]", 422, path},
		{"an option over 100 characters", map[string]any{"question": "Q?", "options": []string{"a", strings.Repeat("é", 101)}}, "options[1]", 422, path},
		{"no question", map[string]any{"question": "", "options": []string{"a", "b"}}, "question", 422, path},
		{"a group of one", map[string]any{"title": "Solo", "identity_ids": []int64{ms.identity.ID}}, "identity_ids", 422, "/api/v1/groups"},
		{"a group with the same customer twice", map[string]any{"title": "Solo", "identity_ids": []int64{ms.identity.ID, ms.identity.ID}}, "identity_ids", 422, "/api/v1/groups"},
		{"a poll in another business's thread", map[string]any{"question": "Q?", "options": []string{"a", "b"}}, "", 404, "/api/v1/threads/999999/polls"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.post(c.against, c.body)
			errBody, _ := body["error"].(map[string]any)
			if status != c.status || (c.field != "" && errBody["field"] != c.field) {
				t.Fatalf("%d %v, want %d with field %q", status, body, c.status, c.field)
			}
		})
	}
	// An identity of another business: 404, and nothing created.
	other, err := e.store.CreateBusiness(e.ctx, "Altra")
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: other.ID, Name: "Estranea"}
	if err := e.store.CreateContact(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: other.ID, ContactID: c.ID, ChannelID: ms.channel.ID, App: models.AppMessenger, ExternalID: "999"}
	if err := e.store.CreateIdentity(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if status, body := e.post("/api/v1/groups", map[string]any{"title": "Mix", "identity_ids": []int64{ms.identity.ID, id.ID}}); status != 404 {
		t.Fatalf("group with another business's identity: %d %v", status, body)
	}
	var n int64
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM threads WHERE origin = 'relay'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d relay groups created", n)
	}
	// Another business's poll: 404.
	if status, _ := e.get("/api/v1/polls/999999"); status != 404 {
		t.Fatalf("unknown poll: %d", status)
	}
	// A poll to a customer outside their window: 422 with the reason, nothing stored.
	late := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-3*24*time.Hour))
	status, body := e.post("/api/v1/threads/"+strconv.FormatInt(late.thread.ID, 10)+"/polls",
		map[string]any{"question": "Q?", "options": []string{"a", "b"}})
	if status != 422 || errorCode(body) != "window_closed" {
		t.Fatalf("poll outside the window: %d %v", status, body)
	}
	e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM polls WHERE thread_id = ?`, late.thread.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("a refused poll was stored")
	}
}

// A poll leg that failed and is sent again keeps its signed payloads: the tap
// on the retried message counts (its buttons are not the option titles), and
// the retry is still judged as a leg.
func TestPollLegRetryKeepsSignedPayloads(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	gid := e.group("Wedding dress", bride, mother)
	e.jobsDone()
	e.sim.FailNext(2, 400, 100) // both legs fail for good
	pid := e.poll(gid, "Which fitting day?", []string{"Saturday", "Sunday", "Monday"}, false)
	var p models.Poll
	e.store.Gorm(e.ctx).First(&p, pid)
	legs, err := e.store.LegMessages(e.ctx, *p.MessageID)
	if err != nil || len(legs) != 2 {
		t.Fatalf("legs %v %v", legs, err)
	}
	for _, c := range []*customer{bride, mother} {
		e.waitStatus(legs[c.identity.ID], models.StatusFailed)
		if _, err := e.pipe.Outbox().Retry(e.ctx, e.biz.ID, legs[c.identity.ID]); err != nil {
			t.Fatalf("retry the %s leg: %v", c.app, err)
		}
		e.waitStatus(legs[c.identity.ID], models.StatusSent, models.StatusDelivered, models.StatusRead)
		m := e.message(legs[c.identity.ID])
		if !strings.Contains(string(m.Details), `"leg"`) {
			t.Fatalf("the retried %s leg lost its leg intent: %s", c.app, m.Details)
		}
	}
	sb, sm := e.waitSend(bride, "Which fitting day?"), e.waitSend(mother, "Which fitting day?")
	for _, s := range []metasim.Send{sb, sm} {
		for _, c := range metasim.ChoicesOf(s) {
			if !strings.HasPrefix(c.ID, "poll:") {
				t.Fatalf("a retried leg offers %q, not a signed payload: %s", c.ID, s.Raw)
			}
		}
	}
	e.tap(bride, sb, 0)
	e.tap(mother, sm, 0)
	if votes, byApp, _ := e.tally(pid); votes[1] != 2 || byApp[1]["whatsapp"] != 1 || byApp[1]["messenger"] != 1 {
		t.Fatalf("taps on retried legs: %v %v", votes, byApp)
	}
}
