package web

import (
	"fmt"
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
