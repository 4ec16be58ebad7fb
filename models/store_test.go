package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// fixture is a business with one channel, one contact and its direct thread.
type fixture struct {
	biz      *models.Business
	channel  *models.Channel
	identity *models.Identity
	thread   *models.Thread
}

func newFixture(t *testing.T, s *models.Store, name, app, account string) fixture {
	t.Helper()
	ctx := context.Background()
	biz, err := s.CreateBusiness(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: app, AccountID: account,
		AccessToken: "token-" + account, AppSecret: "secret-" + account})
	if err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{BusinessID: biz.ID, Name: "Zoë " + name}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: app,
		ExternalID: "user-" + account, DisplayName: c.Name}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	th, created, err := s.EnsureDirectThread(ctx, id, time.Now())
	if err != nil || !created {
		t.Fatalf("thread: created=%v err=%v", created, err)
	}
	return fixture{biz, ch, id, th}
}

func addMessage(t *testing.T, s *models.Store, f fixture, ext, dir, status string, at time.Time) (*models.Message, bool) {
	t.Helper()
	m := &models.Message{BusinessID: f.biz.ID, ThreadID: f.thread.ID, ChannelID: &f.channel.ID, Direction: dir,
		App: f.channel.App, Kind: "text", ExternalID: &ext, Text: "hello " + ext, SentAt: at, Status: status}
	var ok bool
	err := s.InTx(context.Background(), func(tx *models.Store) error {
		var err error
		ok, err = tx.AddMessage(context.Background(), m, []models.Attachment{{Kind: "image", URL: "https://x/" + ext}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, ok
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	db := modelstest.NewDB(t)
	for i := 0; i < 2; i++ {
		if err := models.Migrate(context.Background(), db.SQL); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

func TestConcurrentMigrateSerialises(t *testing.T) {
	db := modelstest.NewDB(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() { errs <- models.Migrate(context.Background(), db.SQL) }()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestMessageExternalIDUniquePerChannel(t *testing.T) {
	s := modelstest.NewStore(t)
	f := newFixture(t, s, "Acme", "whatsapp", "1001")
	now := time.Now().UTC()
	if _, ok := addMessage(t, s, f, "wamid.A", "in", "received", now); !ok {
		t.Fatal("first insert not stored")
	}
	if _, ok := addMessage(t, s, f, "wamid.A", "in", "received", now); ok {
		t.Fatal("duplicate wamid stored twice")
	}
	th, err := s.Thread(context.Background(), f.biz.ID, f.thread.ID)
	if err != nil {
		t.Fatal(err)
	}
	if th.UnreadCount != 1 {
		t.Fatalf("unread = %d, want 1 (duplicates must not count)", th.UnreadCount)
	}
	if th.LastMessagePreview != "hello wamid.A" || len(th.Participants) != 1 {
		t.Fatalf("thread not kept up to date: %+v", th)
	}
	// The same external id on another channel is another message.
	g := newFixture(t, s, "Other", "whatsapp", "2002")
	if _, ok := addMessage(t, s, g, "wamid.A", "in", "received", now); !ok {
		t.Fatal("same id on another channel must be stored")
	}
}

func TestStatusMovesForwardOnly(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "whatsapp", "1001")
	m, _ := addMessage(t, s, f, "wamid.OUT", "out", "queued", time.Now())
	steps := []struct {
		status      string
		wantChanged bool
		wantStatus  string
	}{
		{"sent", true, "sent"},
		{"read", true, "read"},
		{"delivered", false, "read"}, // late delivered after read stays read
		{"sent", false, "read"},
		{"read", false, "read"}, // replay
		{"failed", false, "read"},
	}
	for _, st := range steps {
		r, err := s.AdvanceStatus(ctx, models.StatusUpdate{ChannelID: f.channel.ID, ExternalID: "wamid.OUT", Status: st.status, At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Found || r.Changed != st.wantChanged {
			t.Fatalf("%s: result %+v, want changed=%v", st.status, r, st.wantChanged)
		}
		got, _ := s.Message(ctx, f.biz.ID, m.ID)
		if got.Status != st.wantStatus {
			t.Fatalf("after %s: status %s, want %s", st.status, got.Status, st.wantStatus)
		}
	}
	var n int64
	s.Gorm(ctx).Model(&models.MessageStatus{}).Where("message_id = ?", m.ID).Count(&n)
	if n != 4 {
		t.Fatalf("status history rows = %d, want 4 (sent, read, delivered, failed: each fact once)", n)
	}
}

func TestFailedRecordsCodeAndTitle(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "whatsapp", "1001")
	m, _ := addMessage(t, s, f, "wamid.F", "out", "sent", time.Now())
	code := 131050
	if _, err := s.AdvanceStatus(ctx, models.StatusUpdate{MessageID: m.ID, Status: "failed", At: time.Now(),
		ErrorCode: &code, ErrorTitle: "User stopped marketing"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Message(ctx, f.biz.ID, m.ID)
	if got.Status != "failed" || got.Error == nil || got.Error.Code != 131050 || got.Error.Title != "User stopped marketing" {
		t.Fatalf("failed not recorded: %+v %+v", got, got.Error)
	}
	if len(got.Attachments) != 1 {
		t.Fatalf("attachments = %d", len(got.Attachments))
	}
}

func TestOtherBusinessRowsInvisible(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	a := newFixture(t, s, "A", "messenger", "p1")
	b := newFixture(t, s, "B", "messenger", "p2")
	m, _ := addMessage(t, s, b, "m_b", "in", "received", time.Now())
	checks := []struct {
		name string
		got  func() (bool, error)
	}{
		{"thread", func() (bool, error) { x, err := s.Thread(ctx, a.biz.ID, b.thread.ID); return x != nil, err }},
		{"message", func() (bool, error) { x, err := s.Message(ctx, a.biz.ID, m.ID); return x != nil, err }},
		{"channel", func() (bool, error) { x, err := s.Channel(ctx, a.biz.ID, b.channel.ID); return x != nil, err }},
		{"identity", func() (bool, error) { x, err := s.Identity(ctx, a.biz.ID, b.identity.ID); return x != nil, err }},
		{"contact", func() (bool, error) { x, err := s.Contact(ctx, a.biz.ID, b.identity.ContactID); return x != nil, err }},
		{"thread list", func() (bool, error) {
			p, err := s.ListThreads(ctx, a.biz.ID, models.ThreadFilter{})
			for _, th := range p.Threads {
				if th.ID == b.thread.ID {
					return true, err
				}
			}
			return false, err
		}},
		{"messages", func() (bool, error) {
			p, err := s.Messages(ctx, a.biz.ID, b.thread.ID, "", 50)
			return len(p.Messages) > 0, err
		}},
		{"update thread", func() (bool, error) {
			st := models.ThreadClosed
			err := s.UpdateThread(ctx, a.biz.ID, b.thread.ID, models.ThreadUpdate{Status: &st})
			if errors.Is(err, models.ErrNotFound) {
				return false, nil
			}
			return true, err
		}},
	}
	for _, c := range checks {
		visible, err := c.got()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if visible {
			t.Errorf("%s of business B visible to business A", c.name)
		}
	}
}

func TestChannelSecretsSealed(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "instagram", "ig1")
	var raw []byte
	row := s.DB.Pool.QueryRow(ctx, `SELECT access_token_enc || app_secret_enc FROM channels WHERE id = $1`, f.channel.ID)
	if err := row.Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "token-ig1") || strings.Contains(string(raw), "secret-ig1") {
		t.Fatal("channel secrets readable in the database")
	}
	tok, sec, err := s.ChannelSecrets(f.channel)
	if err != nil || tok != "token-ig1" || sec != "secret-ig1" {
		t.Fatalf("round trip: %q %q %v", tok, sec, err)
	}
	wrong, _ := models.NewCipher("another-secret-key-entirely")
	if _, _, err := models.NewStore(s.DB, wrong).ChannelSecrets(f.channel); err == nil {
		t.Fatal("secrets opened without the right SECRET_KEY")
	}
}

func TestInboxKeysetPagination(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "messenger", "p1")
	base := time.Now().UTC().Truncate(time.Second)
	for i := 0; i < 7; i++ {
		id := &models.Identity{BusinessID: f.biz.ID, ContactID: f.identity.ContactID, ChannelID: f.channel.ID,
			App: "messenger", ExternalID: "psid-" + string(rune('a'+i))}
		if err := s.CreateIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		// Two threads share each timestamp so the id breaks the tie.
		if _, _, err := s.EnsureDirectThread(ctx, id, base.Add(time.Duration(i/2)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int64]bool{}
	cursor := ""
	var last *models.Thread
	for pages := 0; ; pages++ {
		p, err := s.ListThreads(ctx, f.biz.ID, models.ThreadFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Threads {
			th := p.Threads[i]
			if seen[th.ID] {
				t.Fatalf("thread %d on two pages", th.ID)
			}
			seen[th.ID] = true
			if last != nil && (th.LastMessageAt.After(last.LastMessageAt) || th.LastMessageAt.Equal(last.LastMessageAt) && th.ID > last.ID) {
				t.Fatalf("order broken at thread %d", th.ID)
			}
			last = &th
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != 8 {
		t.Fatalf("saw %d threads, want 8", len(seen))
	}
}

func TestCustomerEventsNeverMoveBack(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	f := newFixture(t, s, "Acme", "whatsapp", "1001")
	t1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t1, t1.Add(-time.Hour)} { // a late retry of an older event
		if err := s.RecordCustomerEvent(ctx, f.identity.ID, "message", at); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.CustomerEvents(ctx, f.identity.ID)
	if err != nil || !evs["message"].Equal(t1) {
		t.Fatalf("events %v err %v, want message at %v", evs, err, t1)
	}
}
