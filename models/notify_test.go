package models_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// A batch's events reach a listener as one notification per business (split
// under PostgreSQL's 8000-byte limit), every event once and in order.
func TestNotifyEventsOnePayloadPerBusiness(t *testing.T) {
	db := modelstest.NewDB(t)
	cipher, err := models.NewCipher(modelstest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db, cipher)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	defer func() { _ = conn.Conn().Close(context.Background()) }() // a listening session is not given back
	if _, err := conn.Exec(ctx, "LISTEN "+models.InboxChannel); err != nil {
		t.Fatal(err)
	}
	var sent []models.Event
	for i := int64(1); i <= 400; i++ { // business 7's alone pass the limit
		sent = append(sent, models.Event{Type: "message", BusinessID: 7, ThreadID: 1000 + i, MessageID: 900000 + i})
		if i%100 == 0 {
			sent = append(sent, models.Event{Type: "status", BusinessID: 8, ThreadID: i, MessageID: i})
		}
	}
	sent = append(sent, models.Event{Type: "thread", BusinessID: 7, ThreadID: 1})
	if err := s.InTx(ctx, func(tx *models.Store) error { return tx.NotifyEvents(ctx, sent) }); err != nil {
		t.Fatal(err)
	}
	got := map[int64][]models.Event{}
	notifications := map[int64]int{}
	for n := 0; n < len(sent); {
		msg, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v", n, len(sent), err)
		}
		if len(msg.Payload) >= 8000 {
			t.Errorf("a notification of %d bytes", len(msg.Payload))
		}
		evs, err := models.DecodeEvents(msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.BusinessID != evs[0].BusinessID {
				t.Fatalf("one notification mixes businesses %d and %d", evs[0].BusinessID, ev.BusinessID)
			}
			got[ev.BusinessID] = append(got[ev.BusinessID], ev)
		}
		notifications[evs[0].BusinessID]++
		n += len(evs)
	}
	for _, b := range []int64{7, 8} {
		want := slices.DeleteFunc(slices.Clone(sent), func(ev models.Event) bool { return ev.BusinessID != b })
		if !slices.Equal(got[b], want) {
			t.Errorf("business %d: got %d events, want %d, in order", b, len(got[b]), len(want))
		}
	}
	if notifications[8] != 1 || notifications[7] < 2 || notifications[7] > 3 {
		t.Errorf("notifications per business = %v, want 8: 1 and 7: 2 or 3 (split at the limit)", notifications)
	}
	// A single event (Notify) still reads as one.
	if evs, err := models.DecodeEvents(`{"t":"note","b":3,"th":4,"m":5}`); err != nil || len(evs) != 1 || evs[0].MessageID != 5 {
		t.Errorf("DecodeEvents(one event) = %v, %v", evs, err)
	}
}
