package jobs_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/models"
)

// simCustomer is the customer as Meta's simulator knows them.
func simCustomer(c *customer) *metasim.Customer {
	mc := &metasim.Customer{Name: c.identity.DisplayName}
	switch c.app {
	case models.AppMessenger:
		mc.PSID = c.identity.ExternalID
	case models.AppInstagram:
		mc.IGSID = c.identity.ExternalID
	default:
		mc.Phone = c.identity.ExternalID
	}
	return mc
}

// says delivers the customer's message (kind text, quick_reply, button_reply
// or list_reply) through Meta's signed webhook and waits until it is stored.
func (e *env) says(c *customer, kind, text string, choice *metasim.Choice) *models.Message {
	e.t.Helper()
	in, err := e.sim.Build(metasim.Event{App: metasim.App(c.app), Kind: kind, Account: c.account, Customer: simCustomer(c),
		Text: text, Choice: choice})
	if err != nil {
		e.t.Fatal(err)
	}
	if status, err := e.sim.Deliver(e.ctx, in); err != nil || status != 200 {
		e.t.Fatalf("deliver: %d %v", status, err)
	}
	var m models.Message
	e.waitFor("inbound "+in.Items[0].ID, func() bool {
		_ = e.store.Gorm(e.ctx).Where("external_id = ?", in.Items[0].ID).Limit(1).Find(&m).Error
		return m.ID != 0
	})
	return &m
}

// waitSend waits until Meta has a send to the customer whose text contains s.
func (e *env) waitSend(c *customer, s string) metasim.Send {
	e.t.Helper()
	var got metasim.Send
	e.waitFor("a send to "+c.app+" containing "+s, func() bool {
		for _, snd := range e.sendsOf(c.account) {
			if snd.Recipient == c.identity.ExternalID && strings.Contains(snd.Text, s) {
				got = snd
				return true
			}
		}
		return false
	})
	return got
}

// sendsTo counts Meta's sends to the customer containing s.
func (e *env) sendsTo(c *customer, s string) int {
	n := 0
	for _, snd := range e.sendsOf(c.account) {
		if snd.Recipient == c.identity.ExternalID && strings.Contains(snd.Text, s) {
			n++
		}
	}
	return n
}

// group opens a relay group of the customers through the API.
func (e *env) group(title string, cs ...*customer) int64 {
	e.t.Helper()
	ids := []int64{}
	for _, c := range cs {
		ids = append(ids, c.identity.ID)
	}
	status, body := e.post("/api/v1/groups", map[string]any{"title": title, "identity_ids": ids})
	if status != 201 || body["kind"] != "group" || body["origin"] != "relay" {
		e.t.Fatalf("create group: %d %v", status, body)
	}
	if ps, _ := body["participants"].([]any); len(ps) != len(cs) {
		e.t.Fatalf("participants %v", body["participants"])
	}
	return idOf(e.t, body)
}

// legs are the relay legs of a group message, by member identity.
func (e *env) legs(groupMessageID int64) map[int64]models.RelayLegView {
	e.t.Helper()
	ls, err := e.store.RelayLegsFor(e.ctx, e.biz.ID, []int64{groupMessageID})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int64]models.RelayLegView{}
	for _, l := range ls[groupMessageID] {
		out[l.IdentityID] = l
	}
	return out
}

// lastIn is the latest inbound message of a thread.
func (e *env) lastIn(threadID int64) *models.Message {
	e.t.Helper()
	var m models.Message
	if err := e.store.Gorm(e.ctx).Where("thread_id = ? AND direction = 'in'", threadID).Order("id DESC").Limit(1).Find(&m).Error; err != nil {
		e.t.Fatal(err)
	}
	return &m
}

func TestRelayAcrossEveryPairOfApps(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	gid := e.group("Wedding dress", bride, mother, sister)

	// Each member is told they joined, who else is in and how to leave.
	for _, c := range []*customer{bride, mother, sister} {
		s := e.waitSend(c, "You joined the group “Wedding dress”")
		if !strings.Contains(s.Text, "LEAVE") {
			t.Errorf("join message to %s: %q", c.app, s.Text)
		}
	}
	if s := e.waitSend(bride, "You joined"); !strings.Contains(s.Text, mother.identity.DisplayName+" (Messenger)") ||
		!strings.Contains(s.Text, sister.identity.DisplayName+" (Instagram)") {
		t.Errorf("join message names the others: %q", s.Text)
	}

	cases := []struct {
		from   *customer
		to     []*customer
		text   string
		notTo  *customer
		typeMT string // messaging_type on Messenger/Instagram legs
	}{
		{bride, []*customer{mother, sister}, "Ciao mamma, ciao sorella", bride, "UPDATE"},
		{mother, []*customer{bride, sister}, "Che bello il pizzo!", mother, "UPDATE"},
		{sister, []*customer{bride, mother}, "Io preferisco il raso", sister, "UPDATE"},
	}
	for _, c := range cases {
		e.says(c.from, "text", c.text, nil)
		in := e.lastIn(gid)
		if in.Text != c.text || *in.SenderIdentityID != c.from.identity.ID {
			t.Fatalf("the group thread's latest message is %q from %v", in.Text, in.SenderIdentityID)
		}
		want := c.from.identity.DisplayName + ": " + c.text
		for _, to := range c.to {
			s := e.waitSend(to, want)
			if s.Text != want {
				t.Errorf("%s → %s: %q, want %q", c.from.app, to.app, s.Text, want)
			}
			if to.app != models.AppWhatsApp && s.MessagingType != c.typeMT {
				t.Errorf("%s leg messaging_type %q", to.app, s.MessagingType)
			}
			if s.Tag != "" {
				t.Errorf("a relayed customer message went with tag %q", s.Tag)
			}
		}
		if n := e.sendsTo(c.notTo, c.text); n != 0 {
			t.Errorf("the sender got their own message back %d times", n)
		}
		// The member's direct thread holds none of it: their chat is their window into the group.
		if d := e.lastIn(c.from.thread.ID); d.Text == c.text {
			t.Errorf("message stayed in the %s direct thread", c.from.app)
		}
	}

	// The bride's WhatsApp legs are service messages, each with its cost row.
	var legCosts []struct{ Category string }
	if err := e.store.Gorm(e.ctx).Raw(`SELECT c.category FROM messages m LEFT JOIN message_costs c ON c.message_id = m.id
		WHERE m.thread_id = ? AND m.direction = 'out' AND m.text LIKE '%: %'`, bride.thread.ID).Scan(&legCosts).Error; err != nil {
		t.Fatal(err)
	}
	if len(legCosts) != 2 {
		t.Fatalf("%d legs to the bride, want 2", len(legCosts))
	}
	for _, c := range legCosts {
		if c.Category != "service" {
			t.Errorf("a WhatsApp leg's cost category %q, want service", c.Category)
		}
	}

	// An agent's message goes to all three.
	status, body := e.post("/api/v1/groups/"+strconv.FormatInt(gid, 10)+"/messages", map[string]any{"text": "La prova è sabato alle 10"})
	if status != 201 {
		t.Fatalf("agent post: %d %v", status, body)
	}
	if legs, _ := body["legs"].([]any); len(legs) != 3 {
		t.Fatalf("agent post legs %v", body["legs"])
	}
	for _, c := range []*customer{bride, mother, sister} {
		e.waitSend(c, "La prova è sabato alle 10")
	}
}

func TestRelayLegOutsideTheWindowIsRefusedAndShown(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-3*24*time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-2*time.Hour))
	gid := e.group("Wedding dress", bride, mother, sister)
	e.waitSend(bride, "You joined")
	e.waitSend(sister, "You joined")

	e.says(bride, "text", "Mamma, guarda il velo", nil)
	in := e.lastIn(gid)
	e.waitSend(sister, "Mamma, guarda il velo")
	legs := e.legs(in.ID)
	if l := legs[mother.identity.ID]; l.Refusal != "window_closed" || l.Status != "" {
		t.Fatalf("the mother's leg: %+v, want refused window_closed (a relay is never HUMAN_AGENT)", l)
	}
	if l := legs[sister.identity.ID]; l.Refusal != "" {
		t.Fatalf("the sister's leg was refused: %+v", l)
	}
	if n := e.sendsTo(mother, "guarda il velo"); n != 0 {
		t.Fatalf("Meta got the refused leg %d times", n)
	}

	// An agent's own message may reach her under HUMAN_AGENT (3 days < 7).
	e.post("/api/v1/groups/"+strconv.FormatInt(gid, 10)+"/messages", map[string]any{"text": "Vi aspettiamo sabato"})
	if s := e.waitSend(mother, "Vi aspettiamo sabato"); s.Tag != "HUMAN_AGENT" || s.MessagingType != "MESSAGE_TAG" {
		t.Fatalf("agent leg to the mother: %s / %s", s.MessagingType, s.Tag)
	}

	// The header's reach says the same.
	reach, err := e.pipe.Relay().Reach(e.ctx, e.biz.ID, gid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reach {
		if r.Member.ID == mother.identity.ID && (r.Relay.Allowed || !r.Agent.Allowed) {
			t.Fatalf("mother's reach: relay %v agent %v", r.Relay, r.Agent)
		}
		if r.Member.ID == bride.identity.ID && !r.Relay.Allowed {
			t.Fatalf("bride's reach: %v", r.Relay)
		}
	}
}

func TestRelayLeaveKeywordAndOneGroupPerChannel(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	gid := e.group("Wedding dress", bride, mother, sister)
	e.waitSend(mother, "You joined")

	// A second active group for the same customer on the same channel: 409.
	status, body := e.post("/api/v1/groups", map[string]any{"title": "Other", "identity_ids": []int64{mother.identity.ID, bride.identity.ID}})
	if status != 409 || errorCode(body) != "in_another_group" {
		t.Fatalf("second group: %d %v", status, body)
	}

	e.says(mother, "text", "Esci", nil)
	e.waitSend(mother, "You left the group “Wedding dress”")
	if n := e.sendsTo(bride, "Esci"); n != 0 {
		t.Fatalf("the leave keyword was relayed")
	}
	e.says(bride, "text", "Mamma?", nil)
	e.waitSend(sister, "Mamma?")
	if n := e.sendsTo(mother, "Mamma?"); n != 0 {
		t.Fatalf("a member who left still gets legs")
	}
	// Her chat is hers again.
	e.says(mother, "text", "Sono tornata alla chat normale", nil)
	if m := e.lastIn(mother.thread.ID); m.Text != "Sono tornata alla chat normale" {
		t.Fatalf("after leaving, her message landed elsewhere")
	}
	// Now she may join another group.
	if status, body := e.post("/api/v1/groups", map[string]any{"title": "Other", "identity_ids": []int64{mother.identity.ID, bride.identity.ID + 1000}}); status != 404 {
		t.Fatalf("group with an unknown identity: %d %v", status, body)
	}

	// The agent adds her back through the API: she is told, and gets the legs again.
	group := "/api/v1/groups/" + strconv.FormatInt(gid, 10) + "/members"
	if status, body := e.post(group, map[string]any{"identity_id": mother.identity.ID}); status != 200 {
		t.Fatalf("add member: %d %v", status, body)
	}
	e.waitFor("a second join message", func() bool { return e.sendsTo(mother, "You joined the group “Wedding dress”") == 2 })
	e.says(bride, "text", "Bentornata mamma", nil)
	e.waitSend(mother, "Bentornata mamma")
	// And removes her: she is told, and gets no more.
	req, _ := http.NewRequest(http.MethodDelete, e.api.URL+group+"/"+strconv.FormatInt(mother.identity.ID, 10), nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if status, body := e.do(req); status != 200 {
		t.Fatalf("remove member: %d %v", status, body)
	}
	e.waitFor("a second leave message", func() bool { return e.sendsTo(mother, "You left the group “Wedding dress”") == 2 })
	e.says(bride, "text", "Sorella, ci sei?", nil)
	e.waitSend(sister, "Sorella, ci sei?")
	if n := e.sendsTo(mother, "Sorella, ci sei?"); n != 0 {
		t.Fatal("a member removed by the agent still gets legs")
	}
}

func TestRelayQuotedReplyStaysQuoted(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	e.group("Wedding dress", bride, mother, sister)
	e.says(mother, "text", "Che bello il pizzo!", nil)
	toBride := e.waitSend(bride, "Che bello il pizzo!")
	toSister := e.waitSend(sister, "Che bello il pizzo!")
	// Meta has the legs; wait until we hold their ids too, as a reply minutes later would find them.
	for _, leg := range []struct {
		c  *customer
		id string
	}{{bride, toBride.MessageID}, {sister, toSister.MessageID}} {
		e.waitFor("the leg's Meta id", func() bool {
			m, err := e.store.MessageByExternal(e.ctx, leg.c.identity.ChannelID, leg.id)
			return err == nil && m != nil
		})
	}

	// The bride quotes her copy (WhatsApp context.message_id of the leg she got).
	in, err := e.sim.Build(metasim.Event{App: metasim.WhatsApp, Kind: "reply", Account: bride.account, Customer: simCustomer(bride),
		Text: "Sì, anche a me!", Ref: toBride.MessageID})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := e.sim.Deliver(e.ctx, in); err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	// The sister's leg quotes her own copy; the mother, whose message it was, gets a short quote.
	s := e.waitSend(sister, "Sì, anche a me!")
	if got := dig(s.Body(), "reply_to.mid"); got != toSister.MessageID {
		t.Errorf("sister's leg reply_to.mid = %v, want %s (body %s)", got, toSister.MessageID, s.Raw)
	}
	m := e.waitSend(mother, "Sì, anche a me!")
	if !strings.HasPrefix(m.Text, "↩ “Che bello il pizzo!”\n") || dig(m.Body(), "reply_to") != nil {
		t.Errorf("mother's leg: %q %s", m.Text, m.Raw)
	}

	// The sister quotes her copy on Instagram: the bride's WhatsApp leg quotes
	// the bride's own copy (context.message_id).
	in, err = e.sim.Build(metasim.Event{App: metasim.Instagram, Kind: "reply", Account: sister.account, Customer: simCustomer(sister),
		Text: "Il pizzo è perfetto", Ref: toSister.MessageID})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := e.sim.Deliver(e.ctx, in); err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	w := e.waitSend(bride, "Il pizzo è perfetto")
	if got := dig(w.Body(), "context.message_id"); got != toBride.MessageID {
		t.Errorf("bride's leg context.message_id = %v, want %s (body %s)", got, toBride.MessageID, w.Raw)
	}
}

// Leave words are the business's setting: once changed, the new word leaves
// (and the join message names it) and the old one is an ordinary message.
func TestRelayLeaveWordsPerBusiness(t *testing.T) {
	e := newEnv(t, nil)
	if words, err := e.store.RelayLeaveWords(e.ctx, e.biz.ID); err != nil || !slices.Equal(words, []string{"esci", "leave"}) {
		t.Fatalf("default leave words %v %v", words, err)
	}
	if err := e.store.SetRelayLeaveWords(e.ctx, e.biz.ID, []string{"two words"}); !errors.Is(err, models.ErrBadLeaveWords) {
		t.Fatalf("a leave 'word' with a space: %v", err)
	}
	if err := e.store.SetRelayLeaveWords(e.ctx, e.biz.ID, []string{" Basta ", "STOP", "basta"}); err != nil {
		t.Fatal(err)
	}
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	e.group("Wedding dress", bride, mother)
	if s := e.waitSend(mother, "You joined"); !strings.Contains(s.Text, "Reply BASTA or STOP to leave") {
		t.Fatalf("join message %q", s.Text)
	}
	e.says(mother, "text", "esci", nil) // no longer a leave word: relayed
	e.waitSend(bride, ": esci")
	e.says(mother, "text", "Basta!", nil)
	e.waitSend(mother, "You left the group “Wedding dress”")
	if n := e.sendsTo(bride, "Basta"); n != 0 {
		t.Fatal("the leave word was relayed")
	}
}

// A member's photo is re-sent to the others by a signed, expiring link under
// BASE_URL, in each app's media form: on WhatsApp the photo with the
// attribution as its caption; on Messenger and Instagram the attribution,
// then the photo. Meta (the simulator) fetches the link before accepting the
// send; a forged link is 404 and an expired one 403.
func TestRelayMediaBySignedLink(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	sister := e.customer(models.AppInstagram, users[models.AppInstagram], testNow.Add(-time.Hour))
	e.group("Wedding dress", bride, mother, sister)
	e.waitSend(bride, "You joined")

	photo := e.says(bride, "image", "", nil)
	prefix := e.api.URL + "/relay-media/"
	var link string
	for _, c := range []*customer{mother, sister} {
		e.waitSend(c, "sent a photo")
		s := e.waitSend(c, prefix)
		if link == "" {
			link = s.Text
		}
	}
	var fetched int
	for _, f := range e.sim.Fetches() {
		if strings.HasPrefix(f.URL, prefix) && f.Status == 200 {
			fetched++
		}
	}
	if fetched < 2 {
		t.Fatalf("Meta fetched %d relayed media links: %+v", fetched, e.sim.Fetches())
	}
	// The link serves the photo's bytes, without a session.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
		t.Fatalf("relay link: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	// A forged link (another attachment, the same MAC) and an expired one.
	ref := strings.TrimPrefix(link, prefix)
	parts := strings.Split(ref, ".")
	parts[1] = strconv.Itoa(mustAtoi(t, parts[1]) + 1)
	if code := httpStatus(t, prefix+strings.Join(parts, ".")); code != http.StatusNotFound {
		t.Fatalf("forged link: %d", code)
	}
	var atts []models.Attachment
	e.store.Gorm(e.ctx).Where("message_id = ?", photo.ID).Find(&atts)
	if len(atts) != 1 {
		t.Fatalf("attachments of the photo: %+v", atts)
	}
	old := e.store.Cipher().MediaRef(e.biz.ID, atts[0].ID, time.Now().Add(-time.Minute))
	if code := httpStatus(t, prefix+old); code != http.StatusForbidden {
		t.Fatalf("expired link: %d", code)
	}
	other := e.store.Cipher().MediaRef(e.biz.ID+1, atts[0].ID, time.Now().Add(time.Hour)) // signed, but not this business's file
	if code := httpStatus(t, prefix+other); code != http.StatusNotFound {
		t.Fatalf("another business's link: %d", code)
	}
}

// The other way: a Messenger photo reaches the WhatsApp member as an image
// whose caption is the attribution, by a link that redirects to Meta's copy.
func TestRelayMediaToWhatsAppCarriesTheCaption(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	e.group("Wedding dress", bride, mother)
	e.waitSend(bride, "You joined")
	e.says(mother, "image", "", nil)
	s := e.waitSend(bride, "sent a photo")
	if s.Type != "image" || !strings.HasPrefix(dig(s.Body(), "image.link").(string), e.api.URL+"/relay-media/") {
		t.Fatalf("the WhatsApp leg: %s %s", s.Type, s.Raw)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRelayReactionToACopyShowsOnTheGroupMessage: a member reacts to their
// copy of another member's message, in their own chat; the reaction shows
// on the group message in the inbox, and goes to nobody else.
func TestRelayReactionToACopyShowsOnTheGroupMessage(t *testing.T) {
	e := newEnv(t, nil)
	bride := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	mother := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	gid := e.group("Wedding dress", bride, mother)
	e.waitSend(bride, "You joined")
	e.waitSend(mother, "You joined")

	e.says(bride, "text", "Guarda questo abito", nil)
	gm := e.lastIn(gid)
	copyOf := e.waitSend(mother, "Guarda questo abito")
	e.waitFor("the mother's copy holds Meta's id", func() bool {
		var n int64
		_ = e.store.Gorm(e.ctx).Model(&models.Message{}).Where("external_id = ?", copyOf.MessageID).Count(&n).Error
		return n == 1
	})
	outToBride := func() int64 {
		var n int64
		if err := e.store.Gorm(e.ctx).Model(&models.Message{}).Where("thread_id = ? AND direction = 'out'", bride.thread.ID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := outToBride()

	react := func(kind string) {
		t.Helper()
		in, err := e.sim.Build(metasim.Event{App: metasim.App(mother.app), Kind: kind, Account: mother.account,
			Customer: simCustomer(mother), Ref: copyOf.MessageID})
		if err != nil {
			t.Fatal(err)
		}
		if status, err := e.sim.Deliver(e.ctx, in); err != nil || status != 200 {
			t.Fatalf("deliver %s: %d %v", kind, status, err)
		}
	}
	reactions := func(messageID int64) []models.Reaction {
		var rs []models.Reaction
		if err := e.store.Gorm(e.ctx).Where("message_id = ?", messageID).Find(&rs).Error; err != nil {
			t.Fatal(err)
		}
		return rs
	}
	react("reaction")
	e.waitFor("the reaction on the group message", func() bool { return len(reactions(gm.ID)) == 1 })
	if r := reactions(gm.ID)[0]; r.IdentityID == nil || *r.IdentityID != mother.identity.ID || r.Emoji == "" {
		t.Errorf("the group message's reaction: %+v, want the mother's", r)
	}
	if n := outToBride(); n != before {
		t.Errorf("the reaction was relayed: %d messages to the bride, %d before", n, before)
	}
	react("unreact")
	e.waitFor("the reaction taken back from the group message", func() bool { return len(reactions(gm.ID)) == 0 })
}
