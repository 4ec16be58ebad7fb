package web

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// A native WhatsApp group thread: our message shows how many of its five
// participants got and read it, and the count moves live as their statuses
// arrive.
func TestBrowserNativeGroupReceipts(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	startLive(t, e)
	ctx := t.Context()
	now := time.Now()
	g, _, err := e.store.EnsureGroupThread(ctx, e.b.channel, "120363025246125486", "Sposa e famiglia", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"Giulia Rossi", "Anna Rossi", "Marta Rossi", "Paola Bianchi", "Sara Verdi"}
	var phones []string
	var ids []*models.Identity
	for i, n := range names {
		c := &models.Contact{BusinessID: e.b.biz.ID, Name: n}
		if err := e.store.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		phone := fmt.Sprintf("39347100000%d", i)
		id := addIdentity(t, e.store, e.b, c, phone, n)
		if err := e.store.AddParticipant(ctx, g.ID, id.ID, "member", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		phones, ids = append(phones, phone), append(ids, id)
	}
	say := func(from *models.Identity, dir, text string, at time.Time) *models.Message {
		ext := nextExt()
		m := &models.Message{BusinessID: e.b.biz.ID, ThreadID: g.ID, ChannelID: &e.b.channel.ID, Direction: dir, App: e.b.channel.App,
			Kind: "text", ExternalID: &ext, Text: text, SentAt: at, Status: models.StatusReceived}
		if from != nil {
			m.SenderIdentityID = &from.ID
		} else {
			m.Status = models.StatusSent
		}
		if err := e.store.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, m, nil); return err }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	say(ids[0], "in", "Possiamo venire sabato alle 10 per la prova?", now.Add(-20*time.Minute))
	say(ids[1], "in", "Io ci sono!", now.Add(-18*time.Minute))
	ours := say(nil, "out", "Sabato alle 10 va benissimo, vi aspettiamo in atelier.", now.Add(-15*time.Minute))
	if err := e.store.ExpectParticipants(ctx, ours.ID, phones, ours.SentAt); err != nil {
		t.Fatal(err)
	}
	advance := func(status string, who ...string) {
		var us []models.ParticipantStatus
		for _, p := range who {
			us = append(us, models.ParticipantStatus{ChannelID: e.b.channel.ID, ExternalID: *ours.ExternalID, Participant: p, Status: status, At: time.Now()})
		}
		moved, err := e.store.AdvanceParticipantStatuses(ctx, us)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range moved { // as ingest does
			if err := e.store.Notify(ctx, models.Event{Type: "status", BusinessID: r.BusinessID, ThreadID: r.ThreadID, MessageID: r.MessageID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	advance(models.StatusDelivered, phones[:4]...)
	advance(models.StatusRead, phones[:2]...)

	agent := agentPage(t, b, e.http.URL, e.b.agent)
	agent.MustSetViewport(1280, 800, 1, false)
	agent.MustNavigate(e.url("/inbox/threads/" + id(g.ID))).MustWaitLoad()
	agent.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	receipt := agent.MustElement(`#msg-` + id(ours.ID) + ` [data-testid="group-receipt"]`)
	if got := receipt.MustText(); got != "read by 2 of 5 · delivered to 4 of 5" {
		t.Fatalf("receipt %q", got)
	}
	// A third participant reads it: the thread shows it without a reload.
	advance(models.StatusRead, phones[2])
	agent.MustElementR(`#msg-`+id(ours.ID)+` [data-testid="group-receipt"]`, `^read by 3 of 5`)
	shoot(t, agent, "group-native-receipt-1280")
	agent.MustSetViewport(375, 740, 2, true)
	agent.MustNavigate(e.url("/inbox/threads/" + id(g.ID))).MustWaitLoad()
	agent.MustElementR(`#msg-`+id(ours.ID)+` [data-testid="group-receipt"]`, `^read by 3 of 5`)
	shoot(t, agent, "group-native-receipt-375")
}

// A relay group in the browser: the agent writes a poll in the group's
// composer; it reaches every member, and its tally moves live, by app, as
// they vote and change their vote; an empty option is refused with the
// form kept.
func TestBrowserRelayGroupPoll(t *testing.T) {
	b := newBrowser(t)
	e := newUIEnv(t, true)
	withGroups(t, e)
	startLive(t, e)
	ctx := t.Context()
	bride, mother, sister := member(t, e, e.a, "Giulia Rossi"), member(t, e, e.a, "Anna Rossi"), member(t, e, e.a, "Marta Rossi")
	g, err := e.srv.opts.Groups.CreateGroup(ctx, e.a.biz.ID, nil, "Abito da sposa", []int64{bride.ID, mother.ID, sister.ID})
	if err != nil {
		t.Fatal(err)
	}

	p := agentPage(t, b, e.http.URL, e.a.agent)
	p.MustNavigate(e.url("/inbox/threads/" + id(g.ID))).MustWaitLoad()
	p.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	p.MustElement(`[data-testid="poll-composer"] summary`).MustClick()
	p.MustElement("#poll-question").MustInput("Which fitting day?")
	p.MustElement("#poll-options").MustInput("Saturday 14\n\nSunday 15\nSunday 15")
	p.MustElement(`[data-testid="poll-send"]`).MustClick()
	p.MustElementR(`[data-testid="composer-error"]`, "/option/i")
	if v := p.MustElement("#poll-question").MustProperty("value").String(); v != "Which fitting day?" {
		t.Errorf("after a refused poll the question reads %q, want it kept", v)
	}

	if open := p.MustElement(`[data-testid="poll-composer"]`).MustProperty("open").Bool(); !open {
		t.Fatal("the refused poll's composer came back closed")
	}
	if v := p.MustElement("#poll-options").MustProperty("value").String(); !strings.Contains(v, "Sunday 15\nSunday 15") {
		t.Errorf("the refused options read %q, want them as typed", v)
	}
	p.MustElement("#poll-options").MustSelectAllText().MustInput("Saturday 14, afternoon\nSunday 15, morning\nMonday 16, after 15:00")
	shoot(t, p, "group-poll-composer-1366-en")
	wait := p.MustWaitNavigation()
	p.MustElement(`[data-testid="poll-send"]`).MustClick()
	wait()
	card := p.MustElement(`[data-testid="poll-card"]`)
	pollID, err := strconv.ParseInt(*card.MustAttribute("data-poll-id"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var legs int64
	if err := e.store.Gorm(ctx).Raw(`SELECT count(*) FROM relay_legs l JOIN polls p ON p.message_id = l.group_message_id
		WHERE p.id = ? AND l.leg_message_id IS NOT NULL`, pollID).Scan(&legs).Error; err != nil || legs != 3 {
		t.Fatalf("the poll went to %d members (%v), want 3", legs, err)
	}

	p.MustWait(`() => document.body.getAttribute("data-live") === "1"`)
	vote := func(who *models.Identity, position int) {
		t.Helper()
		if err := e.store.InTx(ctx, func(tx *models.Store) error {
			return tx.CastVote(ctx, models.Vote{BusinessID: e.a.biz.ID, PollID: pollID, Position: position, IdentityID: who.ID,
				App: models.AppMessenger, At: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	voters := func(want string) {
		t.Helper()
		p.MustElementR(`[data-testid="poll-card"]`, want)
	}
	vote(bride, 1)
	voters("1 person voted")
	vote(mother, 3)
	voters("2 people voted")
	vote(mother, 1) // a change of mind moves the vote
	vote(sister, 1)
	voters("3 people voted")
	counts := p.MustEval(`() => Array.from(document.querySelectorAll('[data-testid="poll-count"]')).map(e => e.textContent.trim()).join("|")`).String()
	if counts != "3 votes|0 votes|0 votes" {
		t.Errorf("tally %q, want 3|0|0 after the change of mind", counts)
	}
	if !strings.Contains(p.MustElement(`[data-testid="poll-card"]`).MustText(), "Messenger") {
		t.Error("the tally does not say which app the votes came from")
	}
	p.MustEval(`() => document.querySelector('[data-testid="poll-card"]').scrollIntoView()`)
	shoot(t, p, "group-poll-tally-1366-en")

	phone := agentPage(t, b, e.http.URL, e.a.agent)
	phone.MustSetViewport(375, 740, 2, true)
	phone.MustNavigate(e.url("/inbox/threads/" + id(g.ID))).MustWaitLoad()
	phone.MustElementR(`[data-testid="poll-card"]`, "3 people voted")
	phone.MustEval(`() => document.querySelector('[data-testid="poll-card"]').scrollIntoView()`)
	if w := phone.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 375 {
		t.Errorf("at 375 px the group thread is %d px wide", w)
	}
	shoot(t, phone, "group-poll-tally-375-en")
}
