package policy

import (
	"encoding/binary"
	"testing"
	"time"
)

// The value tables the fuzz bytes index into; each includes values the engine must reject or ignore.
var (
	fuzzApps       = []App{AppMessenger, AppInstagram, AppWhatsApp, "telegram"}
	fuzzKinds      = []SendKind{"", SendHumanReply, SendAutomated, SendOTNRequest, SendOTNMessage, SendTemplate, SendUtilityTemplate, SendBroadcast, SendPoll, SendRelay, "carrier_pigeon"}
	fuzzCategories = []TemplateCategory{CategoryMarketing, CategoryUtility, CategoryAuthentication, ""}
	fuzzTags       = []Tag{"", TagHumanAgent, TagConfirmedEventUpdate, TagPostPurchaseUpdate, TagAccountUpdate, "CUSTOMER_FEEDBACK"}
	fuzzStatuses   = []ChannelStatus{"", ChannelActive, ChannelNeedsReauth, ChannelDisabled}
	fuzzCountries  = []string{"", "US", "GB", "CA", "us"}
	fuzzEventKinds = []EventKind{EventMessage, EventPostback, EventQuickReply, EventReaction, EventOptin, EventReferral, EventComment, EventCall}
)

// Flag bits of the fuzz input.
const (
	flagBlocked = 1 << iota
	flagReported
	flagOptOut
	flagNewsPage
	flagHumanAgent
	flagUtility
	flagPromotional
	flagProactive
	flagPrivateReply
)

// fuzzSpan bounds "now" to 20 years either side of the tag retirement, far beyond every rule date.
const fuzzSpan = int64(20 * 365 * 24 * time.Hour / time.Millisecond)

// fuzzSeed is the readable form of a fuzz input; encode turns it into the bytes decodeFuzz reads.
type fuzzSeed struct {
	app      App
	kind     SendKind
	category TemplateCategory
	tag      Tag
	status   ChannelStatus
	country  string
	flags    uint16
	now      time.Time
	ages     map[EventKind]time.Duration // how long before now each event happened (negative: after)
	ctwaAge  *time.Duration
	tokens   []fuzzToken
}

type fuzzToken struct {
	age  time.Duration
	used bool
}

func indexOf[T comparable](list []T, v T) byte {
	for i, x := range list {
		if x == v {
			return byte(i)
		}
	}
	panic("fuzz seed value not in its table")
}

func (s fuzzSeed) encode() []byte {
	b := []byte{indexOf(fuzzApps, s.app), indexOf(fuzzKinds, s.kind), indexOf(fuzzCategories, s.category),
		indexOf(fuzzTags, s.tag), indexOf(fuzzStatuses, s.status), indexOf(fuzzCountries, s.country)}
	b = binary.LittleEndian.AppendUint16(b, s.flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.now.Sub(tagsRetire).Milliseconds()))
	for _, k := range fuzzEventKinds {
		age, ok := s.ages[k]
		b = appendPresent(b, ok, int32(age/time.Millisecond))
	}
	var ctwa time.Duration
	if s.ctwaAge != nil {
		ctwa = *s.ctwaAge
	}
	b = appendPresent(b, s.ctwaAge != nil, int32(ctwa/time.Millisecond))
	b = append(b, byte(len(s.tokens)))
	for _, tk := range s.tokens {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(tk.age/time.Second)))
		if tk.used {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

func appendPresent(b []byte, present bool, v int32) []byte {
	if !present {
		return append(b, 0, 0, 0, 0, 0)
	}
	return binary.LittleEndian.AppendUint32(append(b, 1), uint32(v))
}

// fuzzReader reads the input front to back; past its end every read is zero, so any input decodes.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) next(n int) []byte {
	out := make([]byte, n)
	copy(out, r.b)
	r.b = r.b[min(n, len(r.b)):]
	return out
}

func (r *fuzzReader) u8() byte    { return r.next(1)[0] }
func (r *fuzzReader) u16() uint16 { return binary.LittleEndian.Uint16(r.next(2)) }
func (r *fuzzReader) i32() int32  { return int32(binary.LittleEndian.Uint32(r.next(4))) }
func (r *fuzzReader) i64() int64  { return int64(binary.LittleEndian.Uint64(r.next(8))) }

func pick[T any](list []T, b byte) T { return list[int(b)%len(list)] }

// decodeFuzz builds arbitrary facts and an instant from fuzz bytes.
func decodeFuzz(data []byte) (Facts, time.Time) {
	r := &fuzzReader{b: data}
	var f Facts
	f.IdentityID = 1
	f.App = pick(fuzzApps, r.u8())
	f.Send.Kind = pick(fuzzKinds, r.u8())
	f.Send.Category = pick(fuzzCategories, r.u8())
	f.Send.Tag = pick(fuzzTags, r.u8())
	f.Channel.Status = pick(fuzzStatuses, r.u8())
	f.Identity.Country = pick(fuzzCountries, r.u8())
	flags := r.u16()
	has := func(bit uint16) bool { return flags&bit != 0 }
	f.Identity.Blocked, f.Identity.Reported, f.Identity.MarketingOptOut = has(flagBlocked), has(flagReported), has(flagOptOut)
	f.Channel.NewsPage, f.Channel.HumanAgent, f.Channel.UtilityMessaging = has(flagNewsPage), has(flagHumanAgent), has(flagUtility)
	f.Send.Promotional, f.Send.Proactive, f.Send.PrivateReply = has(flagPromotional), has(flagProactive), has(flagPrivateReply)
	at := tagsRetire.Add(time.Duration(r.i64()%fuzzSpan) * time.Millisecond)
	f.Events = Events{}
	for _, k := range fuzzEventKinds {
		present, ms := r.u8()&1 == 1, r.i32()
		if present {
			f.Events[k] = at.Add(-time.Duration(ms) * time.Millisecond)
		}
	}
	if present, ms := r.u8()&1 == 1, r.i32(); present {
		f.CTWAReferralAt = at.Add(-time.Duration(ms) * time.Millisecond)
	}
	for n := r.u8() % 4; n > 0; n-- {
		s, used := r.i32(), r.u8()&1 == 1
		f.OTNTokens = append(f.OTNTokens, OTNToken{CreatedAt: at.Add(-time.Duration(s) * time.Second), Used: used})
	}
	return f, at
}

// oracleWindowOpen recomputes the standard window the simple way, to cross-check the rule-table walk.
func oracleWindowOpen(f Facts, now time.Time) bool {
	kinds := []EventKind{EventMessage, EventPostback, EventQuickReply, EventReaction, EventOptin}
	if f.App == AppWhatsApp {
		kinds = []EventKind{EventMessage, EventCall}
	}
	for _, k := range kinds {
		if t := f.Events[k]; !t.IsZero() && now.Before(t.Add(24*time.Hour)) {
			return true
		}
	}
	return false
}

// freeForm reports whether a send kind is text or media composed on the spot, not a template or token send.
func freeForm(k SendKind) bool {
	switch k.normal() {
	case SendHumanReply, SendAutomated, SendPoll, SendRelay:
		return true
	}
	return false
}

// checkInvariants asserts what must hold for every input, whatever the rules' details.
func checkInvariants(t *testing.T, f Facts, now time.Time, d Decision) {
	t.Helper()
	open := oracleWindowOpen(f, now)
	if d.IdentityID != f.IdentityID || d.App != f.App {
		t.Errorf("identity/app not carried through: %+v", d)
	}
	if (d.Reason == ReasonOK) != d.Allowed {
		t.Errorf("Reason %q with Allowed %v", d.Reason, d.Allowed)
	}
	if d.Reason.Explain() == "" {
		t.Errorf("reason %q is not a contract code", d.Reason)
	}
	if (f.Identity.Blocked || f.Identity.Reported) && (d.Allowed || d.Reason != ReasonBlocked || d.Options != 0) {
		t.Errorf("something offered to a blocked identity: %+v", d)
	}
	switch d.Tag {
	case TagConfirmedEventUpdate, TagPostPurchaseUpdate, TagAccountUpdate:
		if !now.Before(tagsRetire) || now.Before(tagsFrom) {
			t.Errorf("retired tag %s allowed at %s", d.Tag, now)
		}
		if f.App != AppMessenger || open || f.Send.Promotional {
			t.Errorf("tag %s on %s (window open %v, promotional %v)", d.Tag, f.App, open, f.Send.Promotional)
		}
	case TagHumanAgent:
		if f.Send.Kind.normal() != SendHumanReply {
			t.Errorf("HUMAN_AGENT on a %q send", f.Send.Kind)
		}
		if open {
			t.Error("HUMAN_AGENT inside the window")
		}
		if !f.Channel.HumanAgent || f.Send.Promotional {
			t.Errorf("HUMAN_AGENT without permission or on promotional content: %+v", f)
		}
		if last := latest(f.Events, []EventKind{EventMessage, EventQuickReply}); last.IsZero() || !now.Before(last.Add(7*24*time.Hour)) {
			t.Errorf("HUMAN_AGENT more than 7 days after the last message %s", last)
		}
	}
	if d.Options.Has(OptionHumanAgent) && open {
		t.Error("HUMAN_AGENT offered inside the window")
	}
	if (d.Tag != "") != (d.MessagingType == MessagingMessageTag) {
		t.Errorf("tag %q with messaging type %q", d.Tag, d.MessagingType)
	}
	if d.Allowed && f.Send.Promotional && (d.MessagingType == MessagingMessageTag || f.Identity.MarketingOptOut) {
		t.Errorf("promotional content allowed under a tag or to an opted-out customer: %+v", d)
	}
	if f.App == AppWhatsApp {
		if d.MessagingType != "" || d.Tag != "" {
			t.Errorf("WhatsApp decision with messaging type %q tag %q", d.MessagingType, d.Tag)
		}
		if d.Allowed && freeForm(f.Send.Kind) && !open {
			t.Error("free text allowed on WhatsApp outside the window")
		}
		if d.Allowed && f.Send.Kind == SendTemplate && f.Send.Category != CategoryUtility && f.Send.Category != CategoryAuthentication &&
			(f.Identity.MarketingOptOut || (f.Identity.Country == "US" || f.Identity.Country == "us") && !now.Before(usPause)) {
			t.Error("a marketing template allowed to an opted-out or paused customer")
		}
	}
	if (f.App == AppMessenger || f.App == AppInstagram) && d.Allowed && freeForm(f.Send.Kind) && !f.Send.PrivateReply && !open && d.MessagingType != MessagingMessageTag {
		t.Errorf("free text outside the window without a tag: %+v", d)
	}
	if i, ok := d.OTNTokenIndex(); ok {
		if i >= len(f.OTNTokens) || f.App != AppMessenger {
			t.Fatalf("token %d of %d on %s", i, len(f.OTNTokens), f.App)
		}
		tk := f.OTNTokens[i]
		if tk.used() || !now.Before(tk.CreatedAt.Add(365*24*time.Hour)) || open {
			t.Errorf("spent, expired or needless token chosen: %+v (window open %v)", tk, open)
		}
	}
	if !d.ExpiresAt.IsZero() && !d.ExpiresAt.After(now) {
		t.Errorf("ExpiresAt %s is not after now %s", d.ExpiresAt, now)
	}
	if !d.FreeEntryPointUntil.IsZero() && (f.App != AppWhatsApp || !d.FreeEntryPointUntil.After(now)) {
		t.Errorf("free entry point %s on %s at %s", d.FreeEntryPointUntil, f.App, now)
	}
}

func FuzzDecide(f *testing.F) {
	h := time.Hour
	dur := func(d time.Duration) *time.Duration { return &d }
	seeds := []fuzzSeed{
		{app: AppMessenger, kind: SendHumanReply, now: now, ages: map[EventKind]time.Duration{EventMessage: 24*h - time.Millisecond}},
		{app: AppMessenger, kind: SendHumanReply, flags: flagHumanAgent, now: now, ages: map[EventKind]time.Duration{EventMessage: 24 * h}},
		{app: AppInstagram, kind: SendHumanReply, flags: flagHumanAgent, now: now, ages: map[EventKind]time.Duration{EventMessage: 7 * 24 * h}},
		{app: AppMessenger, kind: SendAutomated, tag: TagHumanAgent, flags: flagHumanAgent, now: now, ages: map[EventKind]time.Duration{EventMessage: 2 * 24 * h}},
		{app: AppMessenger, kind: SendAutomated, tag: TagAccountUpdate, now: tagsRetire.Add(-time.Millisecond)},
		{app: AppMessenger, kind: SendAutomated, tag: TagPostPurchaseUpdate, now: tagsRetire},
		{app: AppMessenger, kind: SendAutomated, tag: TagConfirmedEventUpdate, flags: flagPromotional, now: in2025},
		{app: AppMessenger, kind: SendHumanReply, flags: flagHumanAgent, now: now, ages: map[EventKind]time.Duration{EventMessage: 6 * 24 * h, EventReaction: 2 * 24 * h}},
		{app: AppMessenger, kind: SendHumanReply, now: now, ages: map[EventKind]time.Duration{EventReferral: h}},
		{app: AppInstagram, kind: SendAutomated, flags: flagPrivateReply, now: now, ages: map[EventKind]time.Duration{EventComment: 6 * 24 * h}},
		{app: AppMessenger, kind: SendOTNMessage, now: now, tokens: []fuzzToken{{age: 365*24*h - time.Second}, {age: 10 * 24 * h, used: true}}},
		{app: AppMessenger, kind: SendOTNRequest, now: now, ages: map[EventKind]time.Duration{EventOptin: h}},
		{app: AppMessenger, kind: SendUtilityTemplate, flags: flagUtility, now: now},
		{app: AppMessenger, kind: SendBroadcast, flags: flagNewsPage | flagPromotional, now: now},
		{app: AppWhatsApp, kind: SendHumanReply, now: now, ages: map[EventKind]time.Duration{EventMessage: 24 * h}},
		{app: AppWhatsApp, kind: SendRelay, now: now, ages: map[EventKind]time.Duration{EventCall: h}, ctwaAge: dur(h)},
		{app: AppWhatsApp, kind: SendTemplate, category: CategoryMarketing, country: "US", now: usPause.Add(-time.Millisecond)},
		{app: AppWhatsApp, kind: SendTemplate, category: CategoryMarketing, country: "US", now: now},
		{app: AppWhatsApp, kind: SendTemplate, category: "", flags: flagOptOut, now: now},
		{app: AppMessenger, kind: SendHumanReply, flags: flagBlocked | flagHumanAgent, now: now, ages: map[EventKind]time.Duration{EventMessage: h}},
		{app: AppWhatsApp, kind: SendTemplate, category: CategoryUtility, status: ChannelNeedsReauth, flags: flagReported, now: now},
		{app: "telegram", kind: "carrier_pigeon", now: now},
	}
	for _, s := range seeds {
		f.Add(s.encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, at := decodeFuzz(data)
		events := len(facts.Events)
		d := Decide(facts, at)
		checkInvariants(t, facts, at, d)
		if again := Decide(facts, at); diffDecision(again, d) != "" {
			t.Errorf("not deterministic:\n%s", diffDecision(again, d))
		}
		if len(facts.Events) != events {
			t.Error("Decide changed the caller's events")
		}
		human := facts
		human.Send = Send{Kind: SendHumanReply}
		hd := ForHumanReply(facts, at)
		if msg := diffDecision(hd, Decide(human, at)); msg != "" {
			t.Errorf("ForHumanReply differs from a human_reply Decide:\n%s", msg)
		}
		checkInvariants(t, human, at, hd)
	})
}

// TestFuzzSeedsDecode keeps the seed encoder and the decoder in step.
func TestFuzzSeedsDecode(t *testing.T) {
	s := fuzzSeed{app: AppWhatsApp, kind: SendTemplate, category: CategoryMarketing, tag: TagAccountUpdate, status: ChannelDisabled,
		country: "US", flags: flagOptOut | flagPrivateReply, now: now, ages: map[EventKind]time.Duration{EventCall: time.Hour, EventComment: -time.Minute},
		tokens: []fuzzToken{{age: 24 * time.Hour, used: true}}}
	f, at := decodeFuzz(s.encode())
	switch {
	case !at.Equal(now), f.App != AppWhatsApp, f.Send.Kind != SendTemplate, f.Send.Category != CategoryMarketing, f.Send.Tag != TagAccountUpdate,
		f.Channel.Status != ChannelDisabled, f.Identity.Country != "US", !f.Identity.MarketingOptOut, !f.Send.PrivateReply, f.Identity.Blocked:
		t.Errorf("decoded %+v at %s", f, at)
	case len(f.Events) != 2, !f.Events[EventCall].Equal(now.Add(-time.Hour)), !f.Events[EventComment].Equal(now.Add(time.Minute)):
		t.Errorf("events %v", f.Events)
	case len(f.OTNTokens) != 1, !f.OTNTokens[0].Used, !f.OTNTokens[0].CreatedAt.Equal(now.Add(-24 * time.Hour)):
		t.Errorf("tokens %+v", f.OTNTokens)
	}
}
