package models_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// attrEnv is one WhatsApp business with customers, their threads and campaigns.
type attrEnv struct {
	t   *testing.T
	s   *models.Store
	ctx context.Context
	biz *models.Business
	ch  *models.Channel
	n   int
}

func newAttrEnv(t *testing.T, s *models.Store, name string) *attrEnv {
	e := &attrEnv{t: t, s: s, ctx: context.Background()}
	var err error
	if e.biz, err = s.CreateBusiness(e.ctx, name); err != nil {
		t.Fatal(err)
	}
	if e.ch, err = s.CreateChannel(e.ctx, models.NewChannel{BusinessID: e.biz.ID, App: models.AppWhatsApp,
		AccountID: "PN-" + name, AccessToken: "t", AppSecret: "s"}); err != nil {
		t.Fatal(err)
	}
	return e
}

type customer struct {
	id     *models.Identity
	thread *models.Thread
}

func (e *attrEnv) customer(name string) customer {
	e.t.Helper()
	e.n++
	ct := &models.Contact{BusinessID: e.biz.ID, Name: name}
	if err := e.s.CreateContact(e.ctx, ct); err != nil {
		e.t.Fatal(err)
	}
	phone := "+39333000" + strconv.Itoa(1000+e.n)
	id := &models.Identity{BusinessID: e.biz.ID, ContactID: ct.ID, ChannelID: e.ch.ID, App: e.ch.App,
		ExternalID: phone[1:] + "-" + strconv.FormatInt(e.biz.ID, 10), Phone: phone, DisplayName: name}
	if err := e.s.CreateIdentity(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
	th, _, err := e.s.EnsureDirectThread(e.ctx, id, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return customer{id: id, thread: th}
}

// campaign creates a campaign sent to each customer at sentAt.
func (e *attrEnv) campaign(name string, sentAt time.Time, to ...customer) *models.Campaign {
	e.t.Helper()
	c := &models.Campaign{BusinessID: e.biz.ID, ChannelID: e.ch.ID, Name: name, TemplateName: "saldi", TemplateLanguage: "it", Currency: "EUR"}
	if err := e.s.CreateCampaign(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	rs := make([]models.CampaignRecipient, len(to))
	for i, cu := range to {
		rs[i] = models.CampaignRecipient{CampaignID: c.ID, IdentityID: &cu.id.ID, ThreadID: &cu.thread.ID,
			Status: models.RecipientSent, SentAt: &sentAt, Country: "IT", Currency: "EUR", PriceMicros: 50_000}
	}
	if len(rs) > 0 {
		if err := e.s.Gorm(e.ctx).Create(&rs).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

func (e *attrEnv) says(cu customer, kind, text string, at time.Time, details string) {
	e.t.Helper()
	e.n++
	ext := "wamid.in." + strconv.Itoa(e.n) + "." + strconv.FormatInt(e.biz.ID, 10)
	if details == "" {
		details = "{}"
	}
	m := &models.Message{BusinessID: e.biz.ID, ThreadID: cu.thread.ID, ChannelID: &e.ch.ID, Direction: "in", App: e.ch.App,
		Kind: kind, ExternalID: &ext, Text: text, Details: models.JSON(details), SentAt: at, Status: models.StatusReceived,
		SenderIdentityID: &cu.id.ID}
	if err := e.s.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, m, nil); return err }); err != nil {
		e.t.Fatal(err)
	}
}

func (e *attrEnv) attribute(settle time.Duration) models.AttributionPass {
	e.t.Helper()
	p, err := e.s.AttributeCampaigns(e.ctx, 1000, settle)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *attrEnv) counts(c *models.Campaign) (models.CampaignCounts, models.CampaignOutcome) {
	e.t.Helper()
	n, err := e.s.CampaignCounts(e.ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := e.s.CampaignOutcome(e.ctx, e.biz.ID, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n, o
}

const twoItemOrder = `{"order": {"catalog_id": "1337", "text": "Per sabato", "items": [
	{"product_retailer_id": "sourdough-1kg", "quantity": 2, "item_price": 6.5, "currency": "EUR"},
	{"product_retailer_id": "croissant", "quantity": 6, "item_price": 1.25, "currency": "EUR"}]}}`

// The funnel's replied and ordered, and stop words, come from what customers
// wrote after the campaign reached them, inside its window, once each.
func TestAttributionRepliesOrdersAndStops(t *testing.T) {
	s := modelstest.NewStore(t)
	e := newAttrEnv(t, s, "Bottega")
	sent := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	anna, bruno, carla, dario, elena, fabio := e.customer("Anna"), e.customer("Bruno"), e.customer("Carla"),
		e.customer("Dario"), e.customer("Elena"), e.customer("Fabio")
	saldi := e.campaign("Saldi", sent, anna, bruno, carla, dario)
	old := e.campaign("Old", sent.Add(-8*24*time.Hour), bruno, fabio) // its window closed a day before Saldi

	e.says(anna, "text", "Ciao, ci sono ancora le taglie?", sent.Add(time.Hour), "")
	e.says(anna, "text", "Grazie", sent.Add(2*time.Hour), "")
	e.says(bruno, "text", "scritto prima dell'invio", sent.Add(-time.Hour), "")
	e.says(carla, "order", "Per sabato", sent.Add(2*time.Hour), twoItemOrder)
	e.says(dario, "text", "  Stop ", sent.Add(3*time.Hour), "")
	e.says(elena, "text", "STOP", sent.Add(time.Hour), "") // no campaign reached her: nothing to attribute
	e.says(fabio, "text", "stop", sent.Add(time.Hour), "") // Old's window is over: no reply, no opt-out

	// Everything is too young to settle: read, applied, and read again next pass.
	first := e.attribute(time.Hour)
	if first.Scanned != 7 || first.Replies != 3 || first.Orders != 1 || first.OptOuts != 1 {
		t.Fatalf("first pass = %+v", first)
	}
	again := e.attribute(time.Hour)
	if again.Scanned != 7 || again.Replies != 0 || again.Orders != 0 {
		t.Fatalf("a second reading of the same messages changed something: %+v", again)
	}
	if last := e.attribute(0); last.Watermark <= first.Watermark || last.Replies != 0 {
		t.Fatalf("settled pass = %+v (first %+v)", last, first)
	}
	if p := e.attribute(0); p.Scanned != 0 {
		t.Fatalf("the watermark did not move: %+v", p)
	}

	n, o := e.counts(saldi)
	if n.Replied != 3 || o.OrderedCount != 1 || o.OrdersCount != 1 || o.RevenueMicros != 20_500_000 {
		t.Fatalf("Saldi: replied %d ordered %d orders %d revenue %d; want 3, 1, 1, 20500000", n.Replied, o.OrderedCount, o.OrdersCount, o.RevenueMicros)
	}
	if n, o := e.counts(old); n.Replied != 0 || o.OrderedCount != 0 {
		t.Fatalf("Old counted a reply outside its window: %+v %+v", n, o)
	}
	rows, err := s.CampaignRecipientRows(e.ctx, e.biz.ID, saldi.ID, models.RecipientFilter{Status: "replied"}, 0, 10)
	if err != nil || len(rows) != 3 {
		t.Fatalf("replied rows = %d, %v", len(rows), err)
	}
	for _, r := range rows {
		if *r.IdentityID == anna.id.ID && !r.RepliedAt.Equal(sent.Add(time.Hour)) {
			t.Errorf("Anna replied_at = %v, want her first message %v", r.RepliedAt, sent.Add(time.Hour))
		}
		if *r.IdentityID == carla.id.ID && (r.OrderedAt == nil || r.RevenueMicros != 20_500_000) {
			t.Errorf("Carla's order: %v %d", r.OrderedAt, r.RevenueMicros)
		}
	}
	for _, c := range []struct {
		who  customer
		stop bool
	}{{dario, true}, {elena, false}, {fabio, false}, {anna, false}} {
		var id models.Identity
		if err := s.Gorm(e.ctx).Where("id = ?", c.who.id.ID).Take(&id).Error; err != nil {
			t.Fatal(err)
		}
		if got := id.MarketingOptOutAt != nil && id.MarketingOptOutVia == "stop_word"; got != c.stop {
			t.Errorf("%s opted out = %v (via %q), want %v", id.DisplayName, got, id.MarketingOptOutVia, c.stop)
		}
	}
}

// A business's own stop words replace the defaults; none restores them.
func TestStopWordsPerBusiness(t *testing.T) {
	s := modelstest.NewStore(t)
	e := newAttrEnv(t, s, "Bottega")
	if err := s.SetStopWords(e.ctx, e.biz.ID, []string{" Basta così ", ""}); err != nil {
		t.Fatal(err)
	}
	words, err := s.StopWords(e.ctx, e.biz.ID)
	if err != nil || len(words) != 1 || words[0] != "Basta così" {
		t.Fatalf("words = %q, %v", words, err)
	}
	sent := time.Now().Add(-time.Hour)
	a, b := e.customer("Anna"), e.customer("Bruno")
	e.campaign("Saldi", sent, a, b)
	e.says(a, "text", "STOP", sent.Add(time.Minute), "") // not this business's word any more
	e.says(b, "text", "BASTA COSÌ", sent.Add(time.Minute), "")
	if p := e.attribute(0); p.OptOuts != 1 || p.Replies != 2 {
		t.Fatalf("pass = %+v", p)
	}
	if err := s.SetStopWords(e.ctx, e.biz.ID, nil); err != nil {
		t.Fatal(err)
	}
	if words, _ := s.StopWords(e.ctx, e.biz.ID); len(words) != len(models.DefaultStopWords) {
		t.Fatalf("defaults not restored: %q", words)
	}
}

// An order in another currency is recorded but kept out of revenue.
func TestAttributionOrderInAnotherCurrency(t *testing.T) {
	s := modelstest.NewStore(t)
	e := newAttrEnv(t, s, "Bottega")
	sent := time.Now().Add(-time.Hour)
	a := e.customer("Anna")
	c := e.campaign("Saldi", sent, a)
	e.says(a, "order", "", sent.Add(time.Minute), `{"order": {"items": [{"product_retailer_id": "x", "quantity": 1, "item_price": "9.99", "currency": "USD"}]}}`)
	e.attribute(0)
	if _, o := e.counts(c); o.OrdersCount != 1 || o.RevenueMicros != 0 || o.Uncounted != 1 || o.OrderedCount != 1 {
		t.Fatalf("outcome = %+v", o)
	}
}

// The shop's conversions count once per external id, only for recipients of
// the business's own campaign.
func TestConversionsIdempotent(t *testing.T) {
	s := modelstest.NewStore(t)
	e := newAttrEnv(t, s, "Bottega")
	other := newAttrEnv(t, s, "Other")
	sent := time.Now().Add(-time.Hour)
	a, b, stranger := e.customer("Anna"), e.customer("Bruno"), e.customer("Zoe")
	c := e.campaign("Saldi", sent, a, b)
	conv := models.Conversion{CampaignID: c.ID, IdentityID: a.id.ID, AmountMicros: 12_500_000, Currency: "EUR", ExternalID: "order-1"}
	for i, want := range []bool{true, false} {
		created, err := s.RecordConversion(e.ctx, e.biz.ID, conv)
		if err != nil || created != want {
			t.Fatalf("post %d: created %v, %v; want %v", i, created, err, want)
		}
	}
	conv.AmountMicros = 1
	if _, err := s.RecordConversion(e.ctx, e.biz.ID, conv); !errors.Is(err, models.ErrConversionConflict) {
		t.Fatalf("same id, other amount: %v", err)
	}
	byPhone := models.Conversion{CampaignID: c.ID, Phone: b.id.Phone, AmountMicros: 7_000_000, Currency: "eur", ExternalID: "order-2"}
	if created, err := s.RecordConversion(e.ctx, e.biz.ID, byPhone); err != nil || !created {
		t.Fatalf("by phone: %v %v", created, err)
	}
	for _, bad := range []struct {
		biz  int64
		conv models.Conversion
	}{
		{e.biz.ID, models.Conversion{CampaignID: c.ID, IdentityID: stranger.id.ID, AmountMicros: 1, Currency: "EUR", ExternalID: "x"}},
		{other.biz.ID, models.Conversion{CampaignID: c.ID, IdentityID: a.id.ID, AmountMicros: 1, Currency: "EUR", ExternalID: "y"}},
	} {
		if _, err := s.RecordConversion(e.ctx, bad.biz, bad.conv); !errors.Is(err, models.ErrNotRecipient) {
			t.Errorf("conversion %+v: %v, want ErrNotRecipient", bad.conv, err)
		}
	}
	if _, o := e.counts(c); o.OrdersCount != 2 || o.OrderedCount != 2 || o.RevenueMicros != 19_500_000 {
		t.Fatalf("outcome = %+v", o)
	}
}

// A click is recorded once per recipient, however often the link is opened.
func TestCampaignClickOnce(t *testing.T) {
	s := modelstest.NewStore(t)
	e := newAttrEnv(t, s, "Bottega")
	a := e.customer("Anna")
	c := e.campaign("Saldi", time.Now().Add(-time.Hour), a)
	rows, err := s.CampaignRecipientRows(e.ctx, e.biz.ID, c.ID, models.RecipientFilter{}, 0, 10)
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	for i, want := range []bool{true, false, false} {
		if got, err := s.RecordCampaignClick(e.ctx, rows[0].ID, time.Now()); err != nil || got != want {
			t.Fatalf("click %d = %v, %v; want %v", i, got, err, want)
		}
	}
	if n, _ := e.counts(c); n.Clicked != 1 {
		t.Fatalf("clicked = %d", n.Clicked)
	}
	if tgt, err := s.CampaignClickTarget(e.ctx, rows[0].ID+1000); err != nil || tgt != nil {
		t.Fatalf("unknown recipient: %+v %v", tgt, err)
	}
}
