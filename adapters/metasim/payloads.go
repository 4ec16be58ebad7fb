package metasim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

// Event asks the generator for one inbound webhook item.
type Event struct {
	App      App
	Kind     string    // one of Kinds(App)
	Account  string    // "" means the first account of the app
	Customer *Customer // nil means one from the population
	Text     string    // "" means something the customer would write
	At       time.Time // the event's own timestamp; zero means the simulator's clock
	Ref      string    // the message it points at (reaction, reply, edit, receipt); "" means a recent one
	Choice   *Choice   // the option tapped (quick_reply, button_reply, list_reply); nil means a stock one
	// Payload is the developer payload the customer's tap carries (postback, quick reply, WhatsApp
	// button or list reply, OTN opt-in) or the ref of the link they came by; "" means the simulator's.
	Payload string
	// Currency is an order's currency; "" means EUR.
	Currency string
}

// Inbound is a signed webhook POST, ready to deliver.
type Inbound struct {
	App       App
	Body      []byte // exactly what Meta would post (escaped unicode, "\/")
	Signature string // the X-Hub-Signature-256 header value
	Secret    string // the app secret that signed it
	Items     []InboundItem
}

// InboundItem describes one event inside an Inbound.
type InboundItem struct {
	Kind    string
	Account string
	User    string // the customer's id on the app: PSID, IGSID, wa_id or BSUID
	ID      string // the message id it carries or points at (mid, wamid)
	Token   string // the OTN or notification_messages token it issued, if any
	At      time.Time
}

// kindSpec describes one kind of inbound event.
type kindSpec struct {
	weight int                 // share in the default traffic mix; 0 means only on request
	opens  bool                // the user messaged: Meta (re)opens their window
	status bool                // a receipt or status: eligible for out-of-order replay
	who    func(Customer) bool // which customers can produce it; nil means anyone
	build  func(d *draft)
}

// kinds is the generator's catalogue, per app.
var kinds = map[App]map[string]kindSpec{
	Messenger: messengerKinds,
	Instagram: instagramKinds,
	WhatsApp:  whatsappKinds,
}

// Kinds lists the inbound kinds the generator can produce for the app, sorted.
func Kinds(app App) []string { return slices.Sorted(maps.Keys(kinds[app])) }

// draft is one event being built: inputs gathered under the lock, outputs applied under it.
type draft struct {
	s        *Sim
	app      App
	kind     string
	acct     Account
	base     string // the simulator's URL for attachment links; "" means Meta's CDN hosts
	c        Customer
	user     string
	at       time.Time
	text     string
	pl       string // Event.Payload
	currency string // Event.Currency, for orders
	refOut   string // a recent send of the business, to react or reply to
	refIn    string // the customer's own latest message, to edit or unsend
	notif    string // the customer's notification_messages token, if any
	rng      *rand.Rand
	choice   *Choice // the option the customer taps, when the test names one

	item  any    // the messaging event, or the WhatsApp change value
	field string // WhatsApp change field
	id    string
	token string
	eff   effect
}

// effect is what the event changes in Meta's state, applied when it is built: the user acted.
type effect struct {
	opens        bool
	inboundID    string
	entryPoint   bool
	otn          string
	notif        string
	notifStatus  string // "", "stop", "resume"
	optOut       *bool
	group        string
	participants []string
	newNumber    string
	media        []*mediaObject
}

// Payload builds the signed-ready body of one event of the kind, for tests and benchmarks.
func (s *Sim) Payload(app App, kind string) ([]byte, error) {
	in, err := s.Build(Event{App: app, Kind: kind})
	return in.Body, err
}

// Build makes one signed webhook carrying one event, and records its effect on Meta's state
// (the customer messaged: their window opens; an OTN opt-in registers the token; …).
func (s *Sim) Build(ev Event) (Inbound, error) { return s.BuildBatch([]Event{ev}) }

// BuildBatch makes one signed webhook carrying many events of one app, one entry per account.
func (s *Sim) BuildBatch(events []Event) (Inbound, error) {
	if len(events) == 0 {
		return Inbound{}, errors.New("metasim: empty batch")
	}
	app := events[0].App
	drafts := make([]*draft, 0, len(events))
	s.mu.Lock()
	for _, ev := range events {
		d, err := s.newDraft(app, ev)
		if err != nil {
			s.mu.Unlock()
			return Inbound{}, err
		}
		drafts = append(drafts, d)
	}
	s.mu.Unlock()

	secret := drafts[0].acct.AppSecret
	for _, d := range drafts {
		if d.acct.AppSecret != secret {
			return Inbound{}, errors.New("metasim: a batch must be signed by one app secret")
		}
		kinds[app][d.kind].build(d)
	}

	in := Inbound{App: app, Secret: secret, Items: make([]InboundItem, 0, len(drafts))}
	hooks := make([]webhookEvent, 0, len(drafts))
	wall := s.wall()
	s.mu.Lock()
	for _, d := range drafts {
		acct := s.accounts[d.acct.ID]
		s.apply(acct, d)
		if app == WhatsApp && d.eff.opens {
			acct.throughput.charge(wall) // WhatsApp throughput counts inbound messages too
		}
		hooks = append(hooks, acct.event(0, d.field, d.item))
		in.Items = append(in.Items, InboundItem{Kind: d.kind, Account: d.acct.ID, User: d.user, ID: d.id, Token: d.token, At: d.at})
	}
	s.mu.Unlock()
	body, err := EncodeMeta(buildEnvelope(app, drafts[0].at, hooks))
	if err != nil {
		return Inbound{}, err
	}
	in.Body, in.Signature = body, Sign(secret, body)
	return in, nil
}

// newDraft gathers what an event needs from Meta's state; the caller holds s.mu.
func (s *Sim) newDraft(app App, ev Event) (*draft, error) {
	if ev.App != app {
		return nil, errors.New("metasim: a batch must hold events of one app")
	}
	spec, ok := kinds[app][ev.Kind]
	if !ok {
		return nil, fmt.Errorf("metasim: unknown %s kind %q", app, ev.Kind)
	}
	acct := s.pickAccount(app, ev.Account)
	if acct == nil {
		return nil, fmt.Errorf("metasim: no %s account %q", app, ev.Account)
	}
	c := s.pickCustomer(ev.Customer, spec.who)
	d := &draft{s: s, app: app, kind: ev.Kind, acct: acct.Account, base: s.baseURL, c: c,
		user: c.IDFor(app), at: ev.At, text: ev.Text, pl: ev.Payload, currency: cmpOrEUR(ev.Currency), rng: rand.New(rand.NewPCG(s.rng.Uint64(), 1)), choice: ev.Choice}
	d.eff.opens = spec.opens
	if d.at.IsZero() {
		d.at = s.now()
	}
	if d.text == "" {
		d.text = phrase(c, d.rng)
	}
	d.refOut, d.refIn = ev.Ref, ev.Ref
	if ev.Ref == "" {
		d.refOut = acct.recentTo(acct.userKey(d.user))
		if u := acct.users[acct.userKey(d.user)]; u != nil {
			d.refIn = u.lastInbound
		}
	}
	for tok, rt := range acct.recurring {
		if rt.user == d.user {
			d.notif = tok
		}
	}
	return d, nil
}

// payload is the event's own payload, or def.
func (d *draft) payload(def string) string { return firstNonEmpty(d.pl, def) }

// pickAccount is the named account, or the first account of the app.
func (s *Sim) pickAccount(app App, id string) *account {
	if id != "" {
		if a := s.accounts[id]; a != nil && a.App == app {
			return a
		}
		return nil
	}
	for _, id := range s.order {
		if a := s.accounts[id]; a.App == app {
			return a
		}
	}
	return nil
}

// pickCustomer returns the given customer, or a random one the kind allows; the caller holds s.mu.
func (s *Sim) pickCustomer(c *Customer, who func(Customer) bool) Customer {
	if c != nil {
		return *c
	}
	start := s.rng.IntN(len(s.pop))
	for i := range s.pop {
		cand := s.pop[(start+i)%len(s.pop)]
		if who == nil || who(cand) {
			return cand
		}
	}
	return s.pop[start]
}

// apply records the event's effect on Meta's state; the caller holds s.mu.
func (s *Sim) apply(acct *account, d *draft) {
	u := acct.user(d.user)
	if d.app == WhatsApp {
		u.name = d.c.Name
		acct.alias(u, d.c.Phone)
		acct.alias(u, d.c.BSUID)
		if d.c.Phone != "" {
			u.phone, u.country = d.c.Phone, countryOfPhone(d.c.Phone)
		}
		if d.c.BSUID != "" {
			u.bsuid = d.c.BSUID
		}
	}
	e := d.eff
	switch {
	case e.group != "":
		g := acct.group(e.group, e.participants)
		if e.opens && d.at.After(g.lastMessage) {
			g.lastMessage = d.at
		}
	case e.opens && d.at.After(u.lastMessage):
		u.lastMessage = d.at // from the event's own timestamp, never backwards
	}
	if e.inboundID != "" {
		u.lastInbound = e.inboundID
	}
	if e.entryPoint {
		u.entryPoint = d.at
	}
	if e.otn != "" {
		acct.otn[e.otn] = &OTNToken{Token: e.otn, Account: acct.ID, User: d.user, Created: d.at}
	}
	if e.notif != "" {
		rt := acct.recurring[e.notif]
		if rt == nil {
			rt = &recurringToken{token: e.notif, user: d.user, created: d.at, expires: d.at.Add(recurringLifetime)}
			acct.recurring[e.notif] = rt
		}
		rt.stopped = e.notifStatus == "stop"
	}
	if e.optOut != nil {
		u.optedOut = *e.optOut
	}
	if e.newNumber != "" {
		acct.alias(u, e.newNumber)
		u.phone = e.newNumber
	}
	for _, m := range e.media {
		s.media[m.id] = m
	}
}

// Deliver posts a built webhook to the app's webhook URL, as Meta would, and returns the status.
func (s *Sim) Deliver(ctx context.Context, in Inbound) (int, error) {
	url := s.webhookURL(in.App)
	if url == "" {
		return 0, errors.New("metasim: no webhook URL configured for " + string(in.App))
	}
	return postSigned(ctx, s.hooks.client, url, in.Secret, in.Body)
}

// newMID mints the id of the customer's new message.
func (d *draft) newMID() string {
	if d.app == WhatsApp {
		d.id = d.s.ids.wamid(d.c.WhatsAppID())
	} else {
		d.id = d.s.ids.mid(d.app, d.acct.ID)
	}
	d.eff.inboundID = d.id
	return d.id
}

// outRef is the business message the event points at, minting a plausible one if none exists.
func (d *draft) outRef() string {
	if d.refOut == "" {
		if d.app == WhatsApp {
			d.refOut = d.s.ids.wamid(d.c.WhatsAppID())
		} else {
			d.refOut = d.s.ids.mid(d.app, d.acct.ID)
		}
	}
	d.id = d.refOut
	return d.refOut
}

// inRef is the customer's own latest message (for edits and unsends), minting one if none exists.
func (d *draft) inRef() string {
	if d.refIn == "" {
		d.refIn = d.s.ids.mid(d.app, d.acct.ID)
	}
	d.id = d.refIn
	return d.refIn
}

// media mints a stored media object, registered with the event's effect.
func (d *draft) media(mime string) *mediaObject {
	data := sampleBytes(mime, d.rng.IntN(8))
	m := &mediaObject{id: d.s.ids.numericID(16), account: d.acct.ID, mime: mime, data: data}
	m.sha256 = sha256Hex(data)
	d.eff.media = append(d.eff.media, m)
	return m
}

// pick chooses one of the options with the draft's own random source.
func pick[T any](d *draft, options ...T) T { return options[d.rng.IntN(len(options))] }

func cmpOrEUR(currency string) string {
	if currency == "" {
		return "EUR"
	}
	return currency
}
