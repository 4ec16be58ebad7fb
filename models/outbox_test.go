package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// queuedMessage makes a business with a WhatsApp customer and one queued
// outbound message to them.
func queuedMessage(t *testing.T, s *models.Store, account string) (*models.Channel, *models.Message) {
	t.Helper()
	return queuedMessageOn(t, s, models.AppWhatsApp, account)
}

func queuedMessageOn(t *testing.T, s *models.Store, app, account string) (*models.Channel, *models.Message) {
	t.Helper()
	ctx := context.Background()
	biz, _ := s.CreateBusiness(ctx, "Outbox")
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: app, AccountID: account,
		AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: biz.ID, Name: "Zoë"}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App, ExternalID: "393471234567", Phone: "+393471234567"}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	th, _, err := s.EnsureDirectThread(ctx, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := &models.Message{BusinessID: biz.ID, ThreadID: th.ID, ChannelID: &ch.ID, Direction: models.DirectionOut, App: ch.App,
		Kind: "text", Text: "hello", SentAt: time.Now(), Status: models.StatusQueued}
	if err := s.AddOutboundMessages(ctx, []*models.Message{m}); err != nil {
		t.Fatal(err)
	}
	return ch, m
}

// claimTimes are a lease and a reconciliation window long enough never to pass in a test.
var claimTimes = models.ClaimTimes{Lease: time.Minute, Reconcile: time.Minute, Now: time.Now()}

func TestClaimOutboundClaimsOnceAndNeverResendsWhatLeft(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	_, m := queuedMessage(t, s, "1065")
	ids := []int64{m.ID}

	// Two workers race for the same job: exactly one gets the message.
	var wg sync.WaitGroup
	results := make([]*models.ClaimResult, 2)
	for i := range results {
		wg.Go(func() {
			r, err := s.ClaimOutbound(ctx, ids, claimTimes)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	if got := len(results[0].Claimed) + len(results[1].Claimed); got != 1 {
		t.Fatalf("claimed %d times, want once", got)
	}
	c := append(results[0].Claimed, results[1].Claimed...)[0]
	if c.Recipient.ExternalID != "393471234567" || c.Attempts != 1 || c.Text != "hello" || c.ClaimedAt.IsZero() {
		t.Fatalf("claim %+v", c)
	}
	marked, err := s.MarkLeaving(ctx, []models.LeavingClaim{{MessageID: m.ID, ClaimedAt: c.ClaimedAt}})
	if err != nil || !marked[m.ID] {
		t.Fatalf("leaving not marked: %v %v", marked, err)
	}

	// Meta may have accepted it: no new claim, however long it waits.
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), Uncertain: true,
		ClaimedAt: c.ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ClaimOutbound(ctx, ids, claimTimes)
	if err != nil || len(r.Claimed) != 0 || r.Waiting != 1 || time.Until(r.NextAt) < 50*time.Second {
		t.Fatalf("claimed again during reconciliation: %+v %v", r, err)
	}
	gone := claimTimes
	gone.Lease = 0
	if r, err = s.ClaimOutbound(ctx, ids, gone); err != nil || len(r.Claimed) != 0 {
		t.Fatalf("a send that left was claimed after its lease: %+v %v", r, err)
	}
	// Past the window it is unknown, and still never claimed.
	gone.Reconcile = 0
	if r, err = s.ClaimOutbound(ctx, ids, gone); err != nil || len(r.Claimed) != 0 || len(r.Unknown) != 1 || r.Waiting != 0 {
		t.Fatalf("past the window: %+v %v", r, err)
	}
	if got, _ := s.Message(ctx, m.BusinessID, m.ID); got.Status != models.StatusUnknown || got.Attempts != 1 {
		t.Fatalf("status %s after %d attempts, want unknown after 1", got.Status, got.Attempts)
	}
	// A read watermark covering it proves nothing: it stays unknown.
	if res, err := s.AdvanceStatus(ctx, models.StatusUpdate{MessageID: m.ID, Status: models.StatusRead, At: time.Now()}); err != nil || res.Changed {
		t.Fatalf("a watermark moved an unknown send: %+v %v", res, err)
	}
	// Its echo arrives late, tying Meta's id to it: it was sent after all.
	if err := s.Gorm(ctx).Exec(`UPDATE messages SET external_id = 'wamid.X' WHERE id = ?`, m.ID).Error; err != nil {
		t.Fatal(err)
	}
	if res, err := s.AdvanceStatus(ctx, models.StatusUpdate{MessageID: m.ID, Status: models.StatusSent, At: time.Now()}); err != nil || !res.Changed {
		t.Fatalf("a late echo did not reconcile the unknown send: %+v %v", res, err)
	}
	if r, err = s.ClaimOutbound(ctx, ids, gone); err != nil || len(r.Claimed) != 0 || r.Waiting != 0 {
		t.Fatalf("a reconciled message was claimed: %+v %v", r, err)
	}
}

func TestClaimThatNeverLeftIsTakenOverAndFenced(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	_, m := queuedMessage(t, s, "1065")
	ids := []int64{m.ID}
	first, err := s.ClaimOutbound(ctx, ids, claimTimes)
	if err != nil || len(first.Claimed) != 1 {
		t.Fatalf("first claim %+v %v", first, err)
	}
	if r, err := s.ClaimOutbound(ctx, ids, claimTimes); err != nil || len(r.Claimed) != 0 || r.Waiting != 1 {
		t.Fatalf("claimed again within the lease: %+v %v", r, err)
	}
	// The first worker died before its Graph call: past the lease the send is taken over.
	stale := claimTimes
	stale.Lease = 0
	second, err := s.ClaimOutbound(ctx, ids, stale)
	if err != nil || len(second.Claimed) != 1 || second.Claimed[0].Attempts != 2 {
		t.Fatalf("take-over %+v %v", second, err)
	}
	// Were the first worker alive after all, it may neither send nor free the claim.
	old := models.LeavingClaim{MessageID: m.ID, ClaimedAt: first.Claimed[0].ClaimedAt}
	if marked, err := s.MarkLeaving(ctx, []models.LeavingClaim{old}); err != nil || marked[m.ID] {
		t.Fatalf("the old claim was let through: %v %v", marked, err)
	}
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), NotAttempted: true,
		ClaimedAt: old.ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ClaimOutbound(ctx, ids, claimTimes); err != nil || len(r.Claimed) != 0 {
		t.Fatalf("the old worker freed the new claim: %+v %v", r, err)
	}
	now := models.LeavingClaim{MessageID: m.ID, ClaimedAt: second.Claimed[0].ClaimedAt}
	if marked, err := s.MarkLeaving(ctx, []models.LeavingClaim{now}); err != nil || !marked[m.ID] {
		t.Fatalf("the new claim was refused: %v %v", marked, err)
	}
}

func TestReleaseStaleClaimsFreesOnlyWhatNeverLeft(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	ch, m := queuedMessage(t, s, "1065")
	_, left := queuedMessage(t, s, "1066")
	claimed, err := s.ClaimOutbound(ctx, []int64{m.ID, left.ID}, claimTimes)
	if err != nil || len(claimed.Claimed) != 2 {
		t.Fatalf("claim %+v %v", claimed, err)
	}
	c := claimed.Claimed[1]
	if _, err := s.MarkLeaving(ctx, []models.LeavingClaim{{MessageID: c.ID, ClaimedAt: c.ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReleaseStaleClaims(ctx, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("released within the lease: %+v %v", got, err)
	}
	got, err := s.ReleaseStaleClaims(ctx, 0)
	if err != nil || len(got) != 1 || got[0].MessageID != m.ID || got[0].ChannelID != ch.ID {
		t.Fatalf("released %+v %v, want only message %d", got, err, m.ID)
	}
	if r, err := s.ClaimOutbound(ctx, []int64{m.ID}, claimTimes); err != nil || len(r.Claimed) != 1 || r.Claimed[0].Attempts != 1 {
		t.Fatalf("the released send is not claimable as its first attempt: %+v %v", r, err)
	}
}

func TestRecordOutcomesMovesForwardOnly(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	_, m := queuedMessage(t, s, "1065")
	if _, err := s.ClaimOutbound(ctx, []int64{m.ID}, claimTimes); err != nil {
		t.Fatal(err)
	}
	// A delivered status reconciled it before the worker recorded its answer.
	if _, err := s.AdvanceStatus(ctx, models.StatusUpdate{MessageID: m.ID, Status: models.StatusDelivered, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), Sent: true, ExternalID: "wamid.A"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Message(ctx, m.BusinessID, m.ID)
	if got.Status != models.StatusDelivered {
		t.Fatalf("status went back to %s", got.Status)
	}
	// A failure is recorded with Meta's code and title.
	_, m2 := queuedMessage(t, s, "1066")
	code := 131026
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m2.ID, At: time.Now(), Failed: true,
		ErrorCode: &code, ErrorTitle: "Message undeliverable"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Message(ctx, m2.BusinessID, m2.ID)
	if got.Status != models.StatusFailed || got.Error == nil || got.Error.Code != 131026 || got.Error.Title != "Message undeliverable" {
		t.Fatalf("failure %+v %+v", got.Status, got.Error)
	}
}

func TestRateTakeSharesOneBucketAndChargesInbound(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	ch, m := queuedMessage(t, s, "1065")
	const key = "channel:test"
	got, _, err := s.TakeRateTokens(ctx, key, 1, 10, 25, 0)
	if err != nil || got != 10 {
		t.Fatalf("a full bucket of 10 granted %d (%v)", got, err)
	}
	got, wait, err := s.TakeRateTokens(ctx, key, 1, 10, 1, 0)
	if err != nil || got != 0 || wait <= 0 || wait > 2*time.Second {
		t.Fatalf("an empty bucket granted %d, wait %v (%v)", got, wait, err)
	}
	// Three inbound WhatsApp messages are charged to the number's bucket.
	wkey := "channel:wa"
	if got, _, _ := s.TakeRateTokens(ctx, wkey, 1, 5, 1, ch.ID); got != 1 {
		t.Fatal("no first token")
	}
	for i := range 3 {
		ext := "wamid.in" + string(rune('a'+i))
		in := &models.Message{BusinessID: m.BusinessID, ThreadID: m.ThreadID, ChannelID: &ch.ID, Direction: models.DirectionIn,
			App: ch.App, Kind: "text", Text: "hi", ExternalID: &ext, SentAt: time.Now(), Status: models.StatusReceived}
		if err := s.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, in, nil); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := s.TakeRateTokens(ctx, wkey, 1, 5, 5, ch.ID); got != 1 {
		t.Fatalf("granted %d of the 4 left, want 1 after 3 inbound messages", got)
	}
}

func TestAnswerAfterTheWindowStillReconcilesAnUnknownSend(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	_, m := queuedMessage(t, s, "1065")
	r, err := s.ClaimOutbound(ctx, []int64{m.ID}, claimTimes)
	if err != nil || len(r.Claimed) != 1 {
		t.Fatalf("claim %+v %v", r, err)
	}
	c := r.Claimed[0]
	if _, err := s.MarkLeaving(ctx, []models.LeavingClaim{{MessageID: m.ID, ClaimedAt: c.ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MarkUnknownSends(ctx, 0, time.Now()); err != nil || n != 1 {
		t.Fatalf("marked %d unknown (%v), want 1", n, err)
	}
	// The Graph call answers at last: Meta accepted it.
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), Sent: true, ExternalID: "wamid.late",
		ClaimedAt: c.ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Message(ctx, m.BusinessID, m.ID)
	if got.Status != models.StatusSent || got.ExternalID == nil || *got.ExternalID != "wamid.late" {
		t.Fatalf("status %s, external id %v; want sent as wamid.late", got.Status, got.ExternalID)
	}
}

func TestLateInstagramEchoOfAnUnknownSendIsAdopted(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	ch, m := queuedMessageOn(t, s, models.AppInstagram, "1784")
	r, err := s.ClaimOutbound(ctx, []int64{m.ID}, claimTimes)
	if err != nil || len(r.Claimed) != 1 {
		t.Fatalf("claim %+v %v", r, err)
	}
	if _, err := s.MarkLeaving(ctx, []models.LeavingClaim{{MessageID: m.ID, ClaimedAt: r.Claimed[0].ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MarkUnknownSends(ctx, 0, time.Now()); err != nil || n != 1 {
		t.Fatalf("marked %d unknown (%v)", n, err)
	}
	if copies, err := s.EchoCopyOfUnknownSend(ctx, m.BusinessID, m.ID); err != nil || len(copies) != 0 {
		t.Fatalf("found a copy of an echo that never came: %v %v", copies, err)
	}
	// Instagram's echo, without our id, stored by ingest as a message of its own.
	ext := "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3"
	echo := &models.Message{BusinessID: m.BusinessID, ThreadID: m.ThreadID, ChannelID: &ch.ID, Direction: models.DirectionOut,
		App: ch.App, Kind: "text", Text: m.Text, ExternalID: &ext, SentAt: time.Now(), Status: models.StatusSent}
	if err := s.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, echo, nil); return err }); err != nil {
		t.Fatal(err)
	}
	copies, err := s.EchoCopyOfUnknownSend(ctx, m.BusinessID, m.ID)
	if err != nil || len(copies) != 1 || copies[0] != (models.EchoCopy{Send: m.ID, Echo: echo.ID}) {
		t.Fatalf("late echo not found: %v %v", copies, err)
	}
	if err := s.MergeEchoCopies(ctx, copies); err != nil {
		t.Fatalf("late echo not adopted: %v", err)
	}
	got, _ := s.Message(ctx, m.BusinessID, m.ID)
	if got.Status != models.StatusSent || got.ExternalID == nil || *got.ExternalID != ext {
		t.Fatalf("status %s, external id %v", got.Status, got.ExternalID)
	}
	if copy, _ := s.Message(ctx, m.BusinessID, echo.ID); copy != nil {
		t.Fatal("the echo copy is still in the thread")
	}
}

func TestAJobTakesBackItsOwnClaimAfterARetry(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	_, m := queuedMessage(t, s, "1065")
	ids := []int64{m.ID}
	mine, other := claimTimes, claimTimes
	mine.Job, other.Job = 7, 8
	r, err := s.ClaimOutbound(ctx, ids, mine)
	if err != nil || len(r.Claimed) != 1 {
		t.Fatalf("claim %+v %v", r, err)
	}
	// No rate token in time: nothing reached Meta, and the job will snooze.
	if err := s.RecordOutcomes(ctx, []models.SendOutcome{{MessageID: m.ID, At: time.Now(), NotAttempted: true,
		RetryAt: time.Now(), ClaimedAt: r.Claimed[0].ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ClaimOutbound(ctx, ids, other); err != nil || len(r.Claimed) != 0 || r.Waiting != 1 {
		t.Fatalf("another job took the claim within its lease: %+v %v", r, err)
	}
	if got, err := s.ReleaseStaleClaims(ctx, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("released within the lease: %+v %v", got, err)
	}
	if r, err := s.ClaimOutbound(ctx, ids, mine); err != nil || len(r.Claimed) != 1 || r.Claimed[0].Attempts != 1 {
		t.Fatalf("the job could not take its claim back: %+v %v", r, err)
	}
}
