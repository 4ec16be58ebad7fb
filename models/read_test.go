package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestReadsSeeTheirTransaction: inside InTx the pgx reads (a thread, the
// inbox list, a page of messages, a read batch) run on the transaction's
// connection, so they see its uncommitted rows, also in a savepoint; the
// same reads outside do not until it commits, and nothing of a rolled
// back transaction stays.
func TestReadsSeeTheirTransaction(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Tx", "messenger", "page-tx")
	ext := "mid.tx"
	m := &models.Message{BusinessID: f.biz.ID, ThreadID: f.thread.ID, ChannelID: &f.channel.ID, Direction: "in",
		App: "messenger", Kind: "text", ExternalID: &ext, Text: "inside", SentAt: time.Now(), Status: "received"}

	seen := func(st *models.Store) (thread, listed bool, msgs int, batch int) {
		t.Helper()
		th, err := st.Thread(ctx, f.biz.ID, f.thread.ID)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.InboxThreads(ctx, f.biz.ID, models.ThreadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		mp, err := st.Messages(ctx, f.biz.ID, f.thread.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		rb := st.NewReadBatch()
		byID := rb.MessagesByID(f.biz.ID, []int64{m.ID})
		if err := rb.Send(ctx); err != nil {
			t.Fatal(err)
		}
		return th != nil && th.LastMessagePreview == "inside", len(page.Threads) == 1 && page.Threads[0].LastMessagePreview == "inside",
			len(mp.Messages), len(*byID)
	}

	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(tx *models.Store) error {
		return tx.InTx(ctx, func(sp *models.Store) error { // a savepoint
			if _, err := sp.AddMessage(ctx, m, nil); err != nil {
				return err
			}
			if th, li, n, b := seen(sp); !th || !li || n != 1 || b != 1 {
				t.Errorf("inside the savepoint: thread %v, list %v, %d messages, %d by id; want all", th, li, n, b)
			}
			if th, li, n, b := seen(tx); !th || !li || n != 1 || b != 1 {
				t.Errorf("inside the transaction: thread %v, list %v, %d messages, %d by id; want all", th, li, n, b)
			}
			if th, li, n, b := seen(s); th || li || n != 0 || b != 0 {
				t.Errorf("outside before commit: thread %v, list %v, %d messages, %d by id; want none", th, li, n, b)
			}
			return errRollback
		})
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx: %v", err)
	}
	if th, li, n, b := seen(s); th || li || n != 0 || b != 0 {
		t.Errorf("after rollback: thread %v, list %v, %d messages, %d by id; want none", th, li, n, b)
	}

	m.ID = 0
	if err := s.InTx(ctx, func(tx *models.Store) error { _, err := tx.AddMessage(ctx, m, nil); return err }); err != nil {
		t.Fatal(err)
	}
	if th, li, n, b := seen(s); !th || !li || n != 1 || b != 1 {
		t.Errorf("after commit: thread %v, list %v, %d messages, %d by id; want all", th, li, n, b)
	}
}

// TestPageLimits: a list asks for at most 200 threads and 500 messages; a
// request for none or more gets 50.
func TestPageLimits(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Limits", "messenger", "page-limits")
	base := time.Now().Add(-time.Hour)
	for i := 0; i < 60; i++ {
		addMessage(t, s, f, "mid.limit."+string(rune('a'+i/26))+string(rune('a'+i%26)), "in", "received", base.Add(time.Duration(i)*time.Second))
	}
	for _, c := range []struct{ ask, want int }{{0, 50}, {-1, 50}, {10, 10}, {500, 60}, {501, 50}} {
		p, err := s.Messages(ctx, f.biz.ID, f.thread.ID, "", c.ask)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) != c.want {
			t.Errorf("Messages(limit %d): %d, want %d", c.ask, len(p.Messages), c.want)
		}
	}
	for _, c := range []struct{ ask, want int }{{0, 1}, {201, 1}, {1, 1}} {
		p, err := s.ListThreads(ctx, f.biz.ID, models.ThreadFilter{Limit: c.ask})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Threads) != c.want || p.NextCursor != "" {
			t.Errorf("ListThreads(limit %d): %d threads, cursor %q", c.ask, len(p.Threads), p.NextCursor)
		}
	}
}
