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

// TestReusePlans: a read batch that reuses its plans reads what a plain one
// reads, its statements are planned once (PostgreSQL's own count of the
// connection's prepared statements, on a one-connection pool), and the
// connection goes back to the pool outside any transaction, writable.
func TestReusePlans(t *testing.T) {
	ctx := context.Background()
	db, err := models.Open(ctx, modelstest.URL(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	cipher, _ := models.NewCipher(modelstest.SecretKey)
	s := models.NewStore(db, cipher)
	f := newFixture(t, s, "Plans", "messenger", "page-plans")
	var ids []int64
	for i := range 3 {
		ext := "mid.plans." + string(rune('a'+i))
		m := &models.Message{BusinessID: f.biz.ID, ThreadID: f.thread.ID, ChannelID: &f.channel.ID, Direction: "in",
			App: "messenger", Kind: "text", ExternalID: &ext, Text: "hello " + ext, SentAt: time.Now(), Status: "received"}
		if _, err := s.AddMessage(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	read := func(reuse bool) (threads, msgs int) {
		t.Helper()
		rb := s.NewReadBatch()
		if reuse {
			rb.ReusePlans()
		}
		ts := rb.ThreadsWithLabels(f.biz.ID, []int64{f.thread.ID, f.thread.ID + 1000})
		ms := rb.MessagesByID(f.biz.ID, ids)
		if err := rb.Send(ctx); err != nil {
			t.Fatal(err)
		}
		return len(*ts), len(*ms)
	}
	plans := func() (generic, custom int64) {
		t.Helper()
		err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
			FROM pg_prepared_statements WHERE statement LIKE '%FROM messages m WHERE m.business_id%'`).Scan(&generic, &custom)
		if err != nil {
			t.Fatal(err)
		}
		return generic, custom
	}
	// Fresh prepared statements: without ReusePlans, PostgreSQL makes a
	// custom plan for at least each of the first five calls.
	for range 8 {
		if th, ms := read(true); th != 1 || ms != 3 {
			t.Fatalf("batch reusing plans read %d threads and %d messages, want 1 and 3", th, ms)
		}
	}
	if g, c := plans(); c != 0 || g < 8 {
		t.Errorf("reusing plans, 8 calls made %d custom and %d generic plans; want none and at least 8", c, g)
	}
	if th, ms := read(false); th != 1 || ms != 3 {
		t.Fatalf("plain batch read %d threads and %d messages, want 1 and 3", th, ms)
	}
	var status string
	if err := db.Pool.QueryRow(ctx, `SELECT current_setting('plan_cache_mode') || ' ' || CASE WHEN txid_current_if_assigned() IS NULL THEN 'idle' ELSE 'in tx' END`).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "auto idle" {
		t.Errorf("the connection came back with %q, want plan_cache_mode auto and no transaction", status)
	}
	ext := "mid.plans.after"
	if _, err := s.AddMessage(ctx, &models.Message{BusinessID: f.biz.ID, ThreadID: f.thread.ID, ChannelID: &f.channel.ID,
		Direction: "in", App: "messenger", Kind: "text", ExternalID: &ext, SentAt: time.Now(), Status: "received"}, nil); err != nil {
		t.Errorf("a write after batches that reused plans: %v", err)
	}
}
