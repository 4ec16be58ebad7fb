package views

import (
	"context"
	"encoding/json"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// ListFilter is the inbox list's filter as the query string carries it.
type ListFilter struct {
	App      string
	Status   string
	Assignee string // "", "me", "none" or a user id
	Label    string // label id
	Unread   bool
	Q        string
	Cursor   string
}

// Values encodes the filter for links (without the cursor unless asked).
func (f ListFilter) Values(withCursor bool) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("app", f.App)
	set("status", f.Status)
	set("assignee", f.Assignee)
	set("label", f.Label)
	set("q", f.Q)
	if f.Unread {
		v.Set("unread", "1")
	}
	if withCursor {
		set("cursor", f.Cursor)
	}
	return v
}

// Member is a user of the business as pickers show them.
type Member struct {
	ID   int64
	Name string
	Role string
}

// Window is the policy state of a thread for the list and the composer:
// "open" (free reply until Until), "human_agent" (a person may reply with
// the HUMAN_AGENT tag until Until), "closed", or "none" (no customer message).
type Window struct {
	State string
	Until time.Time
}

// ThreadRow is one row of the inbox list.
type ThreadRow struct {
	ID         int64
	Title      string
	Kind       string
	Apps       []string
	Status     string
	Unread     int
	Preview    string
	PreviewOut bool
	Assignee   string
	LastAt     time.Time
	Window     Window
	Labels     []models.Label
	Current    bool
	Href       string
	OOB        string // hx-swap-oob value when sent over the websocket
}

// ChannelAlert is a channel that needs an admin.
type ChannelAlert struct {
	Name   string
	App    string
	Reason string
}

// InboxView is the three-pane inbox page.
type InboxView struct {
	Page      Page
	Filter    ListFilter
	Rows      []ThreadRow
	OlderURL  string
	Labels    []models.Label
	Members   []Member
	Closing   bool
	Thread    *ThreadView
	WSURL     string
	Alerts    []ChannelAlert
	IsAdmin   bool
	ListEmpty string // catalogue key shown when Rows is empty
}

// ThreadView is the open thread: header, timeline, composer, contacts.
type ThreadView struct {
	Thread       *models.Thread
	Items        []TimelineItem
	OlderURL     string
	Ctx          MessageContext
	Composer     ComposerView
	Contacts     []*models.Contact
	Labels       []models.Label
	Members      []Member
	AssigneeName string
	Back         string         // the list URL the thread was opened from
	OOB          bool           // render the header as an out-of-band swap
	Group        *GroupView     // a relay group's members and reach (group.templ)
	InGroup      *models.Thread // the relay group a direct thread's customer now writes to
	Restock      *RestockAction
}

// MessageContext is what rendering one message needs beyond the message.
type MessageContext struct {
	Participants map[int64]models.Participant
	Authors      map[int64]string
	Quoted       map[int64]models.QuotedMessage
	Polls        map[int64]*models.PollTally
	Legs         map[int64][]models.RelayLegView // a relay group message's legs, by message
	Receipts     map[int64]models.GroupReceipt   // a native WhatsApp group message's participant statuses, by message
	Campaigns    map[int64]models.CampaignMark   // the campaign a message of ours was sent by, by message
	Group        bool
	CanRetry     bool
	OOB          bool // render messages as out-of-band swaps
}

// TimelineItem is a message or a private note.
type TimelineItem struct {
	Message *models.Message
	Note    *models.Note
	Author  string
}

// At is when the item happened.
func (t TimelineItem) At() time.Time {
	if t.Note != nil {
		return t.Note.CreatedAt
	}
	return t.Message.SentAt
}

// DecisionView is a policy decision as the composer shows it.
type DecisionView struct {
	Name       string
	App        string
	Allowed    bool
	Tag        string
	Reason     string // a reason code
	ExpiresAt  time.Time
	Template   bool
	HumanAgent bool
	OTN        bool
}

// ComposerView is the reply form and what it may offer now.
type ComposerView struct {
	ThreadID    int64
	App         string
	Available   bool // a send pipeline is configured
	Approximate bool // the decision was estimated from the thread, not asked of the engine
	Decisions   []DecisionView
	Templates   []models.WATemplate
	Template    *TemplateForm     // the chosen template's fields, when one is chosen
	Prices      map[string]string // category (or "unknown") → what a send of it costs, already translated
	Canned      []models.CannedResponse
	Error       string // already translated
	Text        string
	Poll        *PollDraft // a poll the agent wrote that was refused: shown again, open
	Notice      string     // catalogue key of a success notice
	OOB         bool       // render the policy box as an out-of-band swap
}

// PollDraft is what the agent typed in the poll composer.
type PollDraft struct {
	Question, Options string
	Multiple          bool
}

// Primary is the decision that governs the form (the first customer's).
func (c ComposerView) Primary() DecisionView {
	if len(c.Decisions) == 0 {
		return DecisionView{Reason: "window_closed"}
	}
	return c.Decisions[0]
}

// FreeText reports whether typed text may be sent (perhaps with HUMAN_AGENT).
func (c ComposerView) FreeText() bool { return c.Available && c.Primary().Allowed }

// NeedsHumanAgent reports whether the text may only go with the HUMAN_AGENT tag.
func (c ComposerView) NeedsHumanAgent() bool {
	p := c.Primary()
	return p.Allowed && p.Tag == "HUMAN_AGENT"
}

// OfferTemplates reports whether the WhatsApp template picker is offered.
func (c ComposerView) OfferTemplates() bool {
	p := c.Primary()
	return c.Available && p.App == models.AppWhatsApp && p.Template && !p.Allowed && p.Reason != "blocked"
}

// OfferOTNRequest reports whether "ask to notify me" is offered: Messenger,
// inside the standard window.
func (c ComposerView) OfferOTNRequest() bool {
	p := c.Primary()
	return c.Available && p.App == models.AppMessenger && p.Allowed && p.Tag == ""
}

// OfferOTNUse reports whether a one-time notification may pay for a message now.
func (c ComposerView) OfferOTNUse() bool {
	p := c.Primary()
	return c.Available && p.App == models.AppMessenger && !p.Allowed && p.OTN
}

// ApproxWindow estimates the policy window from the thread alone (no
// engine): 24 hours from the customer's last message on every app, and on
// Messenger and Instagram a human reply with HUMAN_AGENT up to 7 days.
func ApproxWindow(apps []string, lastCustomerAt *time.Time, now time.Time) Window {
	if lastCustomerAt == nil {
		return Window{State: "none"}
	}
	if end := lastCustomerAt.Add(24 * time.Hour); now.Before(end) {
		return Window{State: "open", Until: end}
	}
	for _, a := range apps {
		if a == models.AppMessenger || a == models.AppInstagram {
			if end := lastCustomerAt.Add(7 * 24 * time.Hour); now.Before(end) {
				return Window{State: "human_agent", Until: end}
			}
		}
	}
	return Window{State: "closed"}
}

// SafeExternalURL returns a URL from Meta or a user as a SafeURL when it is
// plain http(s); anything else (javascript:, data:…) is refused.
func SafeExternalURL(raw string) (templ.SafeURL, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	return templ.SafeURL(u.String()), true
}

// MapURL links a coordinate to OpenStreetMap.
func MapURL(lat, lon float64) templ.SafeURL {
	return templ.SafeURL(adapters.Location{Latitude: lat, Longitude: lon}.MapURL())
}

// Details is a message's kind-specific data as the adapters write it,
// decoded defensively: unknown fields are ignored, bad ones left empty.
type Details struct {
	Payload  string `json:"payload"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
		URL       string  `json:"url"`
	} `json:"location"`
	Contacts []struct {
		Name      string `json:"name"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Company   string `json:"company"`
		Phones    []struct {
			Phone string `json:"phone"`
			WaID  string `json:"wa_id"`
			Type  string `json:"type"`
		} `json:"phones"`
		Emails []string `json:"emails"`
	} `json:"contacts"`
	Order *struct {
		CatalogID string `json:"catalog_id"`
		Text      string `json:"text"`
		Items     []struct {
			ProductRetailerID string      `json:"product_retailer_id"`
			Quantity          int         `json:"quantity"`
			ItemPrice         json.Number `json:"item_price"`
			Currency          string      `json:"currency"`
		} `json:"items"`
	} `json:"order"`
	Interactive *struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"interactive"`
	Story *struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"story"`
	ReferredProduct *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
	Restock     *models.RestockNote `json:"restock"` // a restock system line
	Unsupported *UnsupportedNote    `json:"unsupported"`
}

// UnsupportedNote is why a message's content is not shown (adapters.Unsupported).
type UnsupportedNote struct {
	Type        string `json:"type"`
	Reason      string `json:"reason"`
	Explanation string `json:"explanation"`
	Errors      []struct {
		Code  int    `json:"code"`
		Title string `json:"title"`
	} `json:"errors"`
}

// explain says in the reader's language why the content is not shown. A
// note stored before reasons had codes keeps the adapter's English words.
func (u *UnsupportedNote) explain(ctx context.Context) string {
	switch u.Reason {
	case adapters.UnsupportedNotDelivered:
		if u.Type != "" && u.Type != "unknown" {
			return T(ctx, "unsupported.not_delivered_type", u.Type)
		}
		return T(ctx, "unsupported.not_delivered")
	case adapters.UnsupportedType, adapters.UnsupportedAttachment:
		return T(ctx, "unsupported."+u.Reason, u.Type)
	case adapters.UnsupportedPoll:
		return T(ctx, "unsupported.poll")
	}
	return u.Explanation
}

// DecodeDetails reads what it can of a message's details.
func DecodeDetails(raw models.JSON) Details {
	var d Details
	if len(raw) == 0 || string(raw) == "{}" || json.Unmarshal(raw, &d) == nil { // most messages have none
		return d
	}
	// One field has an unexpected shape: keep every field that decodes on its own.
	var parts map[string]json.RawMessage
	d = Details{}
	if json.Unmarshal(raw, &parts) != nil {
		return d
	}
	for k, v := range parts {
		one, err := json.Marshal(map[string]json.RawMessage{k: v})
		if err != nil {
			continue
		}
		var probe Details
		if json.Unmarshal(one, &probe) == nil {
			_ = json.Unmarshal(one, &d)
		}
	}
	return d
}

// Money formats a decimal amount exactly (no floats), e.g. "12.50 EUR".
func Money(r *big.Rat, currency string) string {
	return strings.TrimSpace(r.FloatString(2) + " " + currency)
}

// OrderLine is one cart line with its exact subtotal.
type OrderLine struct {
	Product  string
	Quantity int
	Price    string
	Subtotal string
}

// OrderSummary computes the lines and total of an order; prices Meta sent
// as decimals are summed exactly.
func OrderSummary(d Details) (lines []OrderLine, total string) {
	if d.Order == nil {
		return nil, ""
	}
	sum, currency := new(big.Rat), ""
	for _, it := range d.Order.Items {
		price, ok := new(big.Rat).SetString(it.ItemPrice.String())
		if !ok {
			price = new(big.Rat)
		}
		sub := new(big.Rat).Mul(price, big.NewRat(int64(it.Quantity), 1))
		sum.Add(sum, sub)
		if currency == "" {
			currency = it.Currency
		}
		lines = append(lines, OrderLine{Product: it.ProductRetailerID, Quantity: it.Quantity,
			Price: Money(price, it.Currency), Subtotal: Money(sub, it.Currency)})
	}
	return lines, Money(sum, currency)
}

// Stamp formats an instant for machines (the datetime attribute).
func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Clock formats an instant for people; app.js rewrites it in local time.
func Clock(t time.Time) string { return t.UTC().Format(clockLayout) }

const clockLayout = "02 Jan 15:04 UTC"

// Span says a duration as people do: whole days from two days on, else
// whole hours, else minutes ("2 days", "5 hours", "1 minute").
func Span(ctx context.Context, d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return TN(ctx, "span.days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return TN(ctx, "span.hours", int(d/time.Hour))
	}
	return TN(ctx, "span.minutes", max(1, int(d/time.Minute)))
}

// Itoa is strconv.FormatInt for templates.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }

var placeholder = regexp.MustCompile(`\{\{(\d+)\}\}`)

// TemplateVars is the number of {{n}} variables a template body takes.
func TemplateVars(body string) int {
	n := 0
	for _, m := range placeholder.FindAllStringSubmatch(body, -1) {
		if v, err := strconv.Atoi(m[1]); err == nil && v > n && v < 50 {
			n = v
		}
	}
	return n
}

// LabelClass picks one of the stylesheet's eight label colours (no inline styles under our CSP).
func LabelClass(id int64) string { return "lc" + strconv.FormatInt(id%8, 10) }

// messageClass is a message's classes as one string: templ's class lists
// build a map and slices per item, and a page has up to fifty messages.
func messageClass(m models.Message) string {
	c := "msg " + m.Direction + " kind-" + m.Kind
	if m.Deleted {
		c += " deleted"
	}
	if m.Status == "failed" {
		c += " failed"
	}
	return c
}

// groupReceipt is message id's participant receipt in mc, if it has one.
func groupReceipt(mc MessageContext, id int64) (models.GroupReceipt, bool) {
	r, ok := mc.Receipts[id]
	return r, ok
}
