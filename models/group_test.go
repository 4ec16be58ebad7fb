package models_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// The relay's one-round-trip read of a group's members and their send
// contexts answers what RelayMembers and SendContexts answer apart, creates a
// missing direct thread like RelayMembers, and finds nothing of another business.
func TestRelayMembersToSend(t *testing.T) {
	ctx := context.Background()
	s := modelstest.NewStore(t)
	a := newFixture(t, s, "Atelier", models.AppWhatsApp, "wa-1")
	other := newFixture(t, s, "Other", models.AppWhatsApp, "wa-2")
	ms, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: a.biz.ID, App: models.AppMessenger, AccountID: "page-1",
		AccessToken: "t", AppSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: a.biz.ID, Name: "Mamma"}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	mother := &models.Identity{BusinessID: a.biz.ID, ContactID: c.ID, ChannelID: ms.ID, App: models.AppMessenger,
		ExternalID: "psid-1", DisplayName: "Mamma"} // no direct thread yet
	if err := s.CreateIdentity(ctx, mother); err != nil {
		t.Fatal(err)
	}
	seen := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	if err := s.RecordCustomerEvent(ctx, a.identity.ID, "message", seen); err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateRelayGroup(ctx, a.biz.ID, "Wedding", []int64{a.identity.ID, mother.ID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ { // the first creates the mother's direct thread, the second reads it in one batch
		var members []models.RelayMember
		var scs map[int64]*models.SendContext
		err := s.InTx(ctx, func(tx *models.Store) error {
			var err error
			members, scs, err = tx.RelayMembersToSend(ctx, a.biz.ID, g.ID)
			return err
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want, err := s.RelayMembers(ctx, a.biz.ID, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != 2 || len(want) != 2 {
			t.Fatalf("round %d: members %d, RelayMembers %d; want 2", round, len(members), len(want))
		}
		ids := make([]int64, len(want))
		for i := range want {
			if members[i].ID != want[i].ID || members[i].DirectThreadID != want[i].DirectThreadID ||
				members[i].DisplayName != want[i].DisplayName || members[i].App != want[i].App {
				t.Errorf("round %d: member %d = %+v, RelayMembers has %+v", round, i, members[i], want[i])
			}
			ids[i] = want[i].DirectThreadID
		}
		wantScs, err := s.SendContexts(ctx, a.biz.ID, ids, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(scs) != len(wantScs) || len(scs) != 2 {
			t.Fatalf("round %d: %d send contexts, SendContexts %d; want 2", round, len(scs), len(wantScs))
		}
		for id, w := range wantScs {
			sc := scs[id]
			if sc == nil || sc.Channel == nil || sc.Channel.ID != w.Channel.ID || sc.Thread.Kind != "direct" ||
				len(sc.Customers) != 1 || sc.Customers[0].Identity.ID != w.Customers[0].Identity.ID ||
				!sc.Customers[0].Events["message"].Equal(w.Customers[0].Events["message"]) {
				t.Errorf("round %d: thread %d: %+v, SendContexts has %+v", round, id, sc, w)
			}
		}
		if got := scs[a.thread.ID].Customers[0].Events["message"]; !got.Equal(seen) {
			t.Errorf("round %d: the bride's last message %v, want %v", round, got, seen)
		}
	}
	if _, _, err := s.RelayMembersToSend(ctx, other.biz.ID, g.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another business's group: %v, want ErrNotFound", err)
	}
	if _, _, err := s.RelayMembersToSend(ctx, a.biz.ID, a.thread.ID); !errors.Is(err, models.ErrNotRelayGroup) {
		t.Errorf("a direct thread: %v, want ErrNotRelayGroup", err)
	}
}

// SendContexts leaves out threads of another business and takes the token
// locks inside a transaction.
func TestSendContextsOfOneBusiness(t *testing.T) {
	ctx := context.Background()
	s := modelstest.NewStore(t)
	a := newFixture(t, s, "Atelier", models.AppMessenger, "page-1")
	b := newFixture(t, s, "Other", models.AppMessenger, "page-2")
	err := s.InTx(ctx, func(tx *models.Store) error {
		scs, err := tx.SendContexts(ctx, a.biz.ID, []int64{a.thread.ID, b.thread.ID, a.thread.ID}, true)
		if err != nil {
			return err
		}
		keys := make([]int64, 0, len(scs))
		for id := range scs {
			keys = append(keys, id)
		}
		if !slices.Equal(keys, []int64{a.thread.ID}) {
			t.Errorf("threads %v, want only %d", keys, a.thread.ID)
		}
		sc := scs[a.thread.ID]
		if sc.Channel == nil || sc.Channel.ID != a.channel.ID || sc.Channel.BusinessID != a.biz.ID ||
			len(sc.Customers) != 1 || sc.Customers[0].Identity.ID != a.identity.ID || sc.Customers[0].Tokens != nil {
			t.Errorf("send context %+v", sc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
