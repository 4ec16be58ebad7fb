package inbound_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// An Instagram echo carries no callback ref: when our send's answer was lost
// (the request left, nothing came back), the echo of it is adopted — the
// send gets Meta's id and moves to sent — and is not stored as a copy. An
// echo of a different text stays a message of its own.
func TestInstagramEchoAdoptsTheSendWhoseAnswerWasLost(t *testing.T) {
	e := newEnv(t, "instagram", "IG1")
	msg := func(mid string, ts int64) string {
		return fmt.Sprintf(`{"object":"instagram","entry":[{"id":"IG1","time":%d,"messaging":[{"sender":{"id":"IGSID1"},"recipient":{"id":"IG1"},"timestamp":%d,"message":{"mid":"%s","text":"hi"}}]}]}`, ts, ts, mid)
	}
	echo := func(mid, text string, ts int64) string {
		return fmt.Sprintf(`{"object":"instagram","entry":[{"id":"IG1","time":%d,"messaging":[{"sender":{"id":"IG1"},"recipient":{"id":"IGSID1"},
"timestamp":%d,"message":{"mid":"%s","is_echo":true,"text":"%s"}}]}]}`, ts, ts, mid, text)
	}
	e.deliver(msg("ig_in", 1763700000000))
	in := e.message("ig_in")
	out := &models.Message{BusinessID: e.bizID, ThreadID: in.ThreadID, ChannelID: &e.ch.ID, Direction: "out", App: "instagram",
		Kind: "text", Text: "reply", SentAt: time.UnixMilli(1763700001000), Status: "queued"}
	if err := e.s.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, out, nil); return err }); err != nil {
		t.Fatal(err)
	}
	claim, err := e.s.ClaimOutbound(e.ctx, []int64{out.ID}, models.ClaimTimes{Lease: time.Minute, Reconcile: time.Hour, Now: time.Now()})
	if err != nil || len(claim.Claimed) != 1 {
		t.Fatalf("claim %+v %v", claim, err)
	}
	e.deliver(echo("ig_other", "typed in the Instagram app", 1763700001500), echo("ig_out", "reply", 1763700002000))
	got := e.message("ig_out")
	if got.ID != out.ID || got.Status != "sent" {
		t.Fatalf("echo is message %d %s, want our send %d, sent", got.ID, got.Status, out.ID)
	}
	if other := e.message("ig_other"); other.ID == out.ID || other.Direction != "out" {
		t.Fatalf("the echo of another text was adopted: %+v", other)
	}
	if n := e.count("direction = 'out'"); n != 2 {
		t.Fatalf("%d outbound messages, want our send and the other echo", n)
	}
}
