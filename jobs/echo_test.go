package jobs_test

import (
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// echoCopy stores what ingest stores from an Instagram echo of our send: an
// outbound message of nobody in Switchboard, with Meta's id, and no link to
// our message (Instagram echoes carry no metadata).
func (e *env) echoCopy(c *customer, text, mid string) *models.Message {
	e.t.Helper()
	m := &models.Message{BusinessID: e.biz.ID, ThreadID: c.thread.ID, ChannelID: &c.channel.ID, Direction: models.DirectionOut,
		App: c.app, Kind: "text", Text: text, ExternalID: &mid, SentAt: time.Now(), Status: models.StatusSent}
	if err := e.store.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, m, nil); return err }); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// claimLeft is a worker that claimed the send and let its request leave,
// then died without an answer.
func (e *env) claimLeft(id int64) models.OutboundClaim {
	e.t.Helper()
	claim, err := e.store.ClaimOutbound(e.ctx, []int64{id}, models.ClaimTimes{Lease: time.Minute, Reconcile: time.Hour, Now: testNow})
	if err != nil || len(claim.Claimed) != 1 {
		e.t.Fatalf("claim: %+v %v", claim, err)
	}
	if _, err := e.store.MarkLeaving(e.ctx, []models.LeavingClaim{{MessageID: id, ClaimedAt: claim.Claimed[0].ClaimedAt}}); err != nil {
		e.t.Fatal(err)
	}
	return claim.Claimed[0]
}

// An Instagram send whose answer was lost, but whose echo ingest stored as a
// message of its own, is adopted when its job runs again: it takes the echo's
// id, the copy leaves the thread, and Meta is not sent it a second time.
func TestInstagramEchoCopyIsAdoptedBeforeTheClaim(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	e.halt()
	m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "on its way"})
	if err != nil {
		t.Fatal(err)
	}
	e.claimLeft(m.ID)
	copy := e.echoCopy(c, "on its way", "ig_echo_adopted")
	e.start()
	got := e.waitStatus(m.ID, models.StatusSent)
	if got.ExternalID == nil || *got.ExternalID != "ig_echo_adopted" {
		t.Fatalf("external id %v, want the echo's", got.ExternalID)
	}
	if still, _ := e.store.Message(e.ctx, e.biz.ID, copy.ID); still != nil {
		t.Fatal("the echo copy is still in the thread")
	}
	if n := countText(e.sendsOf(c.account), "on its way"); n != 0 {
		t.Fatalf("Meta received it %d more times, want none", n)
	}
}

// An echo that beats Meta's answer to the send is folded into our message
// when the answer is recorded; a Messenger message is never matched that way
// (its echoes carry our reference).
func TestEchoCopyIsMergedWhenTheAnswerIsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	for _, app := range []string{models.AppInstagram, models.AppMessenger} {
		c := e.customer(app, users[app], testNow.Add(-time.Hour))
		e.halt()
		m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "answered late"})
		if err != nil {
			t.Fatal(err)
		}
		claim := e.claimLeft(m.ID)
		mid := "mid_answered_late_" + app
		copy := e.echoCopy(c, "answered late", mid+"_copy")
		if app == models.AppInstagram {
			copy = e.echoCopy(c, "answered late", mid)
		}
		err = jobs.RecordOutcomes(e.ctx, e.store, app, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), Sent: true,
			ExternalID: mid, ClaimedAt: claim.ClaimedAt}})
		if err != nil {
			t.Fatalf("%s: %v", app, err)
		}
		got := e.message(m.ID)
		if got.Status != models.StatusSent || got.ExternalID == nil || *got.ExternalID != mid {
			t.Fatalf("%s: status %s, external id %v; want sent as %s", app, got.Status, got.ExternalID, mid)
		}
		still, _ := e.store.Message(e.ctx, e.biz.ID, copy.ID)
		if gone := still == nil; gone != (app == models.AppInstagram) {
			t.Fatalf("%s: echo copy deleted = %v", app, gone)
		}
	}
}
