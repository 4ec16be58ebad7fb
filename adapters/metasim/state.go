package metasim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Account is one Page, Instagram account or WhatsApp phone number that Meta knows.
type Account struct {
	App          App
	ID           string // Page id, Instagram account id, or WhatsApp phone_number_id
	WABAID       string // WhatsApp Business Account id (WhatsApp only): the webhook entry id
	AccessToken  string
	AppSecret    string // signs this account's webhooks; empty means Config.AppSecret
	AppID        string // app_id of Messenger echoes; empty means Config.AppID
	HumanAgent   bool   // the Page has the Human Agent permission (HUMAN_AGENT tag)
	NewsPage     bool   // the Page is in the News Page Index (NON_PROMOTIONAL_SUBSCRIPTION)
	MPS          int    // throughput cap in messages per second; 0 means Meta's default, negative means none
	DisplayPhone string // WhatsApp display_phone_number (digits)
}

// Meta's default throughput per account: WhatsApp 80 mps, Messenger 300/s per Page, Instagram 100/s.
func defaultMPS(app App) int {
	switch app {
	case WhatsApp:
		return 80
	case Instagram:
		return 100
	default:
		return 300
	}
}

// heavyMediaMPS is Messenger's and Instagram's separate cap for audio and video sends.
const heavyMediaMPS = 10

// User is what Meta knows about one customer of an account, for tests to set.
type User struct {
	ID      string // PSID, IGSID, WhatsApp wa_id (digits) or BSUID
	Phone   string // WhatsApp phone, any format; empty for a BSUID-only user
	BSUID   string // WhatsApp business-scoped user id ("CC.xxxx")
	Country string // ISO 3166 alpha-2; derived from Phone when empty
	Name    string
}

// Template is a WhatsApp message template (or a Messenger utility template);
// see templates.go for how message_templates lists it.
type Template struct {
	Name     string
	Language string // e.g. "en_US"
	Category string // MARKETING, UTILITY or AUTHENTICATION
	Status   string // APPROVED (the default), PENDING, REJECTED, PAUSED, DISABLED…
	Reason   string // why Meta rejected or paused it
	Header   string // text header, may hold one variable
	Body     string // with {{1}} or, for ParameterFormat NAMED, {{first_name}}
	URL      string // a URL button, e.g. "https://shop.example/p/{{1}}"
	// ParameterFormat is POSITIONAL (the default) or NAMED.
	ParameterFormat string
	ID              string // Meta's template id; minted when empty
}

// OTNToken is a One-Time Notification token Meta issued after a user tapped "Notify Me".
type OTNToken struct {
	Token   string
	Account string
	User    string
	Created time.Time
	Used    time.Time // zero until redeemed
}

// user is Meta's per-account view of one customer.
type user struct {
	key         string // PSID, IGSID, wa_id or BSUID: how the account addresses them
	phone       string
	bsuid       string
	country     string
	name        string
	lastMessage time.Time // the user's last own message: opens the 24h window
	entryPoint  time.Time // last Click-to-WhatsApp/CTA arrival: opens the free entry point
	optedOut    bool      // stopped WhatsApp marketing messages
	capped      int       // the next marketing templates Meta holds back under its per-user cap (131049)
	lastInbound string    // id of the user's latest message, for edits and unsends
	pair        tokenBucket
}

type recurringToken struct {
	token    string
	user     string
	created  time.Time
	expires  time.Time
	stopped  bool
	lastSent time.Time
}

type comment struct {
	user    string
	at      time.Time
	replied bool
}

type group struct {
	id           string
	participants []string
	offline      map[string]bool // participants whose phone gets nothing: no delivered or read from them
	lastMessage  time.Time
}

// outbound remembers a recent accepted send, so generated reactions and statuses can point at it.
type outbound struct{ id, recipient string }

const recentOutbound = 512

// account is Meta's state for one Account.
type account struct {
	Account
	throughput tokenBucket
	heavyMedia tokenBucket
	users      map[string]*user
	otn        map[string]*OTNToken
	recurring  map[string]*recurringToken
	comments   map[string]*comment
	templates  map[string]Template
	groups     map[string]*group
	recent     []outbound
	recentNext int
	campaign   *campaignState // customers' behaviour towards marketing templates (campaign.go); nil: none
}

// AddAccount registers a Page, Instagram account or WhatsApp number with its token.
// Like Meta does for every new WhatsApp Business Account, a WhatsApp account starts with the
// approved "hello_world" (en_US, UTILITY) template.
func (s *Sim) AddAccount(a Account) error {
	if !a.App.valid() {
		return fmt.Errorf("metasim: unknown app %q", a.App)
	}
	if a.ID == "" || a.AccessToken == "" {
		return errors.New("metasim: an account needs an ID and an AccessToken")
	}
	if a.App == WhatsApp {
		if a.WABAID == "" {
			a.WABAID = "1" + a.ID
		}
		if a.DisplayPhone == "" {
			a.DisplayPhone = "1555" + lastDigits(a.ID, 7)
		}
	}
	if a.AppSecret == "" {
		a.AppSecret = s.cfg.AppSecret
	}
	if a.AppID == "" {
		a.AppID = s.cfg.AppID
	}
	acct := &account{
		Account:   a,
		users:     make(map[string]*user),
		otn:       make(map[string]*OTNToken),
		recurring: make(map[string]*recurringToken),
		comments:  make(map[string]*comment),
		templates: make(map[string]Template),
		groups:    make(map[string]*group),
	}
	acct.setRate(a.MPS, s.cfg.RateBurst, s.wall())
	if a.App == WhatsApp {
		acct.addTemplate(Template{Name: "hello_world", Language: "en_US", Category: "UTILITY"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.accounts[a.ID]; dup {
		return fmt.Errorf("metasim: account %s already exists", a.ID)
	}
	s.accounts[a.ID] = acct
	s.order = append(s.order, a.ID)
	s.tokens[a.AccessToken]++
	return nil
}

// Accounts lists the registered accounts in the order they were added.
func (s *Sim) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.accounts[id].Account)
	}
	return out
}

// setRate configures the throughput bucket: mps ≤ 0 after defaults means unlimited.
func (a *account) setRate(mps int, burst time.Duration, now time.Time) {
	if mps == 0 {
		mps = defaultMPS(a.App)
	}
	a.Account.MPS = mps
	a.throughput.configure(float64(mps), burstTokens(mps, burst), now)
	if a.App != WhatsApp {
		a.heavyMedia.configure(heavyMediaMPS, burstTokens(heavyMediaMPS, burst), now)
	}
}

// burstTokens is how many requests the bucket lets through at once: RateBurst worth, at least one.
func burstTokens(mps int, burst time.Duration) float64 {
	return max(1, float64(mps)*burst.Seconds())
}

func (a *account) addTemplate(t Template) {
	t.Category = strings.ToUpper(t.Category)
	t.Status = strings.ToUpper(t.Status)
	if t.Status == "" {
		t.Status = "APPROVED"
	}
	if t.ID == "" {
		t.ID = templateID(a.WABAID, t.Name, t.Language)
	}
	a.templates[t.Name+"|"+t.Language] = t
}

// userKey normalises how a test or a request names a user: WhatsApp phones become digits.
func (a *account) userKey(id string) string {
	if a.App == WhatsApp && !isBSUID(id) {
		return phoneDigits(id)
	}
	return id
}

// user finds or creates the account's record of a customer.
func (a *account) user(id string) *user {
	key := a.userKey(id)
	if u := a.users[key]; u != nil {
		return u
	}
	u := &user{key: key}
	u.pair.configure(1.0/6, 45, time.Time{}) // WhatsApp pair rate: one per 6 s, bursts up to 45
	if a.App == WhatsApp {
		if isBSUID(key) {
			u.bsuid = key
		} else {
			u.phone = key
			u.country = countryOfPhone(key)
		}
	}
	a.users[key] = u
	return u
}

// alias makes another id (a BSUID, a changed number) reach the same user record.
func (a *account) alias(u *user, id string) {
	if id == "" {
		return
	}
	a.users[a.userKey(id)] = u
}

// remember keeps the last few accepted sends for the generator's reactions and statuses.
func (a *account) remember(id, recipient string) {
	if len(a.recent) < recentOutbound {
		a.recent = append(a.recent, outbound{id, recipient})
		return
	}
	a.recent[a.recentNext] = outbound{id, recipient}
	a.recentNext = (a.recentNext + 1) % recentOutbound
}

// recentTo is the latest send to the recipient, else the latest send of the account, else "".
func (a *account) recentTo(recipient string) string {
	latest := ""
	for i := range a.recent {
		o := a.recent[(a.recentNext+len(a.recent)-1-i)%len(a.recent)]
		if o.recipient == recipient {
			return o.id
		}
		if latest == "" {
			latest = o.id
		}
	}
	return latest
}

// withAccount runs fn on the account under the state lock.
func (s *Sim) withAccount(id string, fn func(*account)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[id]
	if a == nil {
		return fmt.Errorf("metasim: unknown account %s", id)
	}
	fn(a)
	return nil
}

// SetLastUserMessage records that the user last messaged the account at t: Meta's window clock.
func (s *Sim) SetLastUserMessage(accountID, userID string, t time.Time) error {
	return s.withAccount(accountID, func(a *account) { a.user(userID).lastMessage = t })
}

// SetEntryPoint records that the WhatsApp user arrived from a Click-to-WhatsApp
// ad or Page CTA at t: messages to them are free for 72 hours.
func (s *Sim) SetEntryPoint(accountID, userID string, t time.Time) error {
	return s.withAccount(accountID, func(a *account) { a.user(userID).entryPoint = t })
}

// LastUserMessage reports when the user last messaged the account, as Meta knows it.
func (s *Sim) LastUserMessage(accountID, userID string) (time.Time, bool) {
	var t time.Time
	_ = s.withAccount(accountID, func(a *account) {
		if u := a.users[a.userKey(userID)]; u != nil {
			t = u.lastMessage
		}
	})
	return t, !t.IsZero()
}

// SetUser records a customer's phone, BSUID, country and name.
func (s *Sim) SetUser(accountID string, u User) error {
	return s.withAccount(accountID, func(a *account) {
		id := u.ID
		if id == "" {
			id = firstNonEmpty(u.Phone, u.BSUID)
		}
		rec := a.user(id)
		if u.Phone != "" {
			rec.phone = phoneDigits(u.Phone)
			rec.country = countryOfPhone(rec.phone)
			a.alias(rec, rec.phone)
		}
		if u.BSUID != "" {
			rec.bsuid = u.BSUID
			a.alias(rec, u.BSUID)
		}
		if u.Country != "" {
			rec.country = strings.ToUpper(u.Country)
		}
		if u.Name != "" {
			rec.name = u.Name
		}
	})
}

// IssueOTN registers a One-Time Notification token for the user, created at the given time.
func (s *Sim) IssueOTN(accountID, userID string, created time.Time) (string, error) {
	tok := s.ids.token()
	err := s.withAccount(accountID, func(a *account) {
		a.otn[tok] = &OTNToken{Token: tok, Account: accountID, User: userID, Created: created}
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// OTN reports a One-Time Notification token's state.
func (s *Sim) OTN(token string) (OTNToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if t := a.otn[token]; t != nil {
			return *t, true
		}
	}
	return OTNToken{}, false
}

// IssueNotificationToken registers a (legacy) Recurring Notifications token valid until expires
// (zero means six months after created).
func (s *Sim) IssueNotificationToken(accountID, userID string, created, expires time.Time) (string, error) {
	tok := s.ids.token()
	if expires.IsZero() {
		expires = created.Add(recurringLifetime)
	}
	err := s.withAccount(accountID, func(a *account) {
		a.recurring[tok] = &recurringToken{token: tok, user: userID, created: created, expires: expires}
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// SetOptOut records a WhatsApp user's "Offers and announcements" choice (stop = true).
func (s *Sim) SetOptOut(accountID, userID string, optedOut bool) error {
	return s.withAccount(accountID, func(a *account) { a.user(userID).optedOut = optedOut })
}

// CapMarketing makes Meta hold back the next n marketing templates to the
// WhatsApp user under its per-user marketing limit: each is accepted, then
// fails in a status webhook with 131049. Assumption: Meta does not publish
// the limit (it depends on how many marketing messages the person got from
// all businesses lately), so tests say how many sends it catches.
func (s *Sim) CapMarketing(accountID, userID string, n int) error {
	return s.withAccount(accountID, func(a *account) { a.user(userID).capped = n })
}

// OptedOut reports whether a WhatsApp user stopped marketing messages from the account.
func (s *Sim) OptedOut(accountID, userID string) bool {
	out := false
	_ = s.withAccount(accountID, func(a *account) {
		if u := a.users[a.userKey(userID)]; u != nil {
			out = u.optedOut
		}
	})
	return out
}

// SetHumanAgent grants or withdraws the Page's Human Agent permission.
func (s *Sim) SetHumanAgent(accountID string, granted bool) error {
	return s.withAccount(accountID, func(a *account) { a.HumanAgent = granted })
}

// SetRate changes the account's throughput cap; perSecond ≤ 0 removes the cap.
func (s *Sim) SetRate(accountID string, perSecond int) error {
	if perSecond <= 0 {
		perSecond = -1
	}
	return s.withAccount(accountID, func(a *account) { a.setRate(perSecond, s.cfg.RateBurst, s.wall()) })
}

// AddTemplate approves a template for the account (WhatsApp, or Messenger utility templates).
func (s *Sim) AddTemplate(accountID string, t Template) error {
	if t.Name == "" || t.Language == "" {
		return errors.New("metasim: a template needs a name and a language")
	}
	return s.withAccount(accountID, func(a *account) { a.addTemplate(t) })
}

// AddGroup registers a WhatsApp group (Groups API) with its participants' numbers.
func (s *Sim) AddGroup(accountID, groupID string, participants ...string) error {
	return s.withAccount(accountID, func(a *account) { a.group(groupID, participants) })
}

func (a *account) group(id string, participants []string) *group {
	g := a.groups[id]
	if g == nil {
		g = &group{id: id}
		a.groups[id] = g
	}
	for _, p := range participants {
		p = phoneDigits(p)
		if !slices.Contains(g.participants, p) {
			g.participants = append(g.participants, p)
		}
	}
	return g
}

// SetParticipantOffline makes a group participant's phone unreachable (or
// reachable again): messages to the group are still accepted and delivered to
// the others, and no delivered or read comes for this participant.
func (s *Sim) SetParticipantOffline(accountID, groupID, participant string, offline bool) error {
	return s.withAccount(accountID, func(a *account) {
		g := a.group(groupID, nil)
		if g.offline == nil {
			g.offline = map[string]bool{}
		}
		g.offline[phoneDigits(participant)] = offline
	})
}

// AddComment records a user's comment, which allows one private reply within 7 days.
func (s *Sim) AddComment(accountID, commentID, userID string, at time.Time) error {
	return s.withAccount(accountID, func(a *account) { a.comments[commentID] = &comment{user: userID, at: at} })
}

// RevokeToken invalidates an access token: every call with it answers 190.
func (s *Sim) RevokeToken(token string) {
	s.mu.Lock()
	s.revoked[token] = true
	s.mu.Unlock()
}

// RestoreToken undoes RevokeToken.
func (s *Sim) RestoreToken(token string) {
	s.mu.Lock()
	delete(s.revoked, token)
	s.mu.Unlock()
}

// within reports whether t is a real moment no longer than d before now.
func within(t, now time.Time, d time.Duration) bool {
	return !t.IsZero() && now.Sub(t) < d
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func lastDigits(s string, n int) string {
	d := phoneDigits(s)
	for len(d) < n {
		d = "0" + d
	}
	return d[len(d)-n:]
}
