package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/models"
)

// render renders c and parses it, for queries by data-testid.
func render(t *testing.T, c templ.Component) (*html.Node, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

// byTestID returns the elements with data-testid=id.
func byTestID(n *html.Node, id string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "data-testid" && a.Val == id {
					out = append(out, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func msg(kind, text, details string) models.Message {
	m := models.Message{ID: 7, ThreadID: 1, Direction: "in", App: "whatsapp", Kind: kind, Text: text, Details: models.JSON(details),
		SentAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), Status: "received"}
	m.Finish()
	return m
}

func TestMessageKindsRender(t *testing.T) {
	mc := MessageContext{}
	cases := []struct {
		name   string
		m      models.Message
		testid string
		want   string
	}{
		{"text", msg("text", "Ciao!", `{}`), "text", "Ciao!"},
		{"location", msg("location", "", `{"location":{"latitude":45.4642,"longitude":9.19,"name":"Duomo","address":"Piazza del Duomo"}}`), "map-link", "Open the map"},
		{"contacts", msg("contacts", "Luca", `{"contacts":[{"name":"Luca Bianchi","phones":[{"phone":"+39 333 111","type":"CELL"}]}]}`), "shared-contacts", "Luca Bianchi +39 333 111 CELL"},
		{"order", msg("order", "", `{"order":{"catalog_id":"c","items":[{"product_retailer_id":"SKU-1","quantity":2,"item_price":12.5,"currency":"EUR"},{"product_retailer_id":"SKU-2","quantity":1,"item_price":"0.10","currency":"EUR"}]}}`), "order-total", "25.10 EUR"},
		{"unsupported poll", msg("poll", "", `{"unsupported":{"type":"poll_creation","explanation":"WhatsApp does not deliver poll content to the Cloud API"}}`), "unsupported", "WhatsApp does not deliver poll content"},
		{"unsupported", msg("unsupported", "", `{"unsupported":{"explanation":"not delivered","errors":[{"code":131051,"title":"Unsupported message type"}]}}`), "unsupported", "Meta error 131051 Unsupported message type"},
		{"story mention", msg("story_mention", "", `{"story":{"url":"https://cdn.example/story.jpg"}}`), "story", "Mentioned you in their story."},
		{"interactive", msg("interactive_reply", "Yes", `{"interactive":{"type":"button_reply","id":"y","title":"Yes please"}}`), "interactive", "Yes please"},
		{"system", msg("system", "User changed number", `{}`), "system", "User changed number"},
		{"bad details", msg("location", "somewhere", `{"location":"not an object"}`), "message", "somewhere"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := render(t, MessageItem(tc.m, mc))
			got := byTestID(doc, tc.testid)
			if len(got) == 0 {
				t.Fatalf("no %s", tc.testid)
			}
			if s := text(got[0]); !strings.Contains(s, tc.want) && attr(got[0], "href") == "" {
				t.Errorf("%s: %q lacks %q", tc.testid, s, tc.want)
			}
		})
	}
}

func TestMediaAttachmentsAndUnsafeURLs(t *testing.T) {
	m := msg("image", "", `{}`)
	m.Attachments = []models.Attachment{{Kind: "image", URL: "https://cdn.example/a.jpg", Caption: "the bag"}}
	doc, _ := render(t, MessageItem(m, MessageContext{}))
	if img := byTestID(doc, "image"); len(img) != 1 || attr(img[0], "src") != "https://cdn.example/a.jpg" {
		t.Fatal("image not rendered")
	}
	for _, k := range []string{"video", "audio"} {
		m := msg(k, "", `{}`)
		m.Attachments = []models.Attachment{{Kind: k, URL: "https://cdn.example/x"}}
		if doc, _ := render(t, MessageItem(m, MessageContext{})); len(byTestID(doc, k)) != 1 {
			t.Errorf("no %s player", k)
		}
	}
	m = msg("file", "", `{}`)
	m.Attachments = []models.Attachment{{Kind: "file", URL: "javascript:alert(1)", Filename: "x.pdf"}, {Kind: "file", MediaID: "wa-123"}}
	doc, out := render(t, MessageItem(m, MessageContext{}))
	if strings.Contains(out, "javascript:") || len(byTestID(doc, "media-pending")) != 2 {
		t.Errorf("unsafe or missing URL handled wrongly: %s", out)
	}
}

func TestMarkersTicksReactionsQuotesAndFailures(t *testing.T) {
	m := msg("text", "Arrivato?", `{}`)
	now := time.Now()
	m.Direction, m.Status, m.EditedAt = "out", "read", &now
	m.Reactions = []models.Reaction{{Emoji: "❤️"}}
	replyTo := int64(3)
	m.ReplyToID = &replyTo
	m.Finish()
	mc := MessageContext{Quoted: map[int64]models.QuotedMessage{3: {ID: 3, Kind: "text", Text: "Quando arriva?"}}}
	doc, _ := render(t, MessageItem(m, mc))
	if tk := byTestID(doc, "ticks"); len(tk) != 1 || attr(tk[0], "aria-label") != "Read" {
		t.Error("read ticks missing")
	}
	for id, want := range map[string]string{"edited": "edited", "reactions": "❤️", "quote": "Quando arriva?"} {
		if got := byTestID(doc, id); len(got) != 1 || !strings.Contains(text(got[0]), want) {
			t.Errorf("%s missing", id)
		}
	}
	code := 131047
	f := msg("text", "hi", `{}`)
	f.Direction, f.Status, f.ErrorCode, f.ErrorTitle = "out", "failed", &code, "Re-engagement message"
	f.Finish()
	doc, _ = render(t, MessageItem(f, MessageContext{CanRetry: true}))
	if e := byTestID(doc, "send-error"); len(e) != 1 || !strings.Contains(text(e[0]), "Re-engagement message") || len(byTestID(doc, "retry")) != 1 {
		t.Error("failure or retry missing")
	}
	d := msg("text", "secret", `{}`)
	d.DeletedAt = &now
	d.Finish()
	doc, out := render(t, MessageItem(d, MessageContext{}))
	if len(byTestID(doc, "deleted")) != 1 || strings.Contains(out, "secret") {
		t.Error("deleted marker wrong")
	}
}

func TestPollWithTallies(t *testing.T) {
	m := msg("poll", "Which colour?", `{}`)
	mid := m.ID
	tally := &models.PollTally{Poll: models.Poll{ID: 1, MessageID: &mid, Question: "Which colour?",
		Options: []models.PollOption{{ID: 1, Text: "Red"}, {ID: 2, Text: "Blue"}}}, Counts: []int{3, 1}, Voters: 4}
	doc, _ := render(t, MessageItem(m, MessageContext{Polls: map[int64]*models.PollTally{m.ID: tally}}))
	counts := byTestID(doc, "poll-count")
	if len(counts) != 2 || text(counts[0]) != "3 votes" {
		t.Errorf("tallies: %v", len(counts))
	}
}

func TestGroupShowsSenderWithApp(t *testing.T) {
	m := msg("text", "hello group", `{}`)
	sid := int64(42)
	m.SenderIdentityID = &sid
	mc := MessageContext{Group: true, Participants: map[int64]models.Participant{42: {IdentityID: 42, App: "instagram", DisplayName: "giulia.ig"}}}
	doc, _ := render(t, MessageItem(m, mc))
	s := byTestID(doc, "sender")
	if len(s) != 1 || !strings.Contains(text(s[0]), "Instagram giulia.ig") {
		t.Error("sender with app badge missing")
	}
}

func TestThreadRowShowsWindowUnreadAssignee(t *testing.T) {
	until := time.Now().Add(2 * time.Hour)
	r := ThreadRow{ID: 9, Title: "Anna", Apps: []string{"messenger", "whatsapp"}, Unread: 2, Preview: "ciao",
		Assignee: "Giulia", Status: "open", Window: Window{State: "open", Until: until}, Href: "/inbox/threads/9"}
	doc, _ := render(t, ThreadRowItem(r))
	if len(byTestID(doc, "app-badge")) != 2 || text(byTestID(doc, "unread")[0]) != "2" || !strings.Contains(text(byTestID(doc, "assignee")[0]), "Giulia") {
		t.Error("row parts missing")
	}
	if w := byTestID(doc, "window"); len(w) != 1 || !strings.Contains(attr(w[0], "class"), "open") {
		t.Error("window badge missing")
	}
}

func TestApproxWindow(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	cases := []struct {
		apps []string
		last *time.Time
		want string
	}{
		{[]string{"whatsapp"}, at(time.Hour), "open"},
		{[]string{"whatsapp"}, at(25 * time.Hour), "closed"},
		{[]string{"messenger"}, at(25 * time.Hour), "human_agent"},
		{[]string{"instagram"}, at(8 * 24 * time.Hour), "closed"},
		{[]string{"messenger"}, nil, "none"},
		{[]string{"whatsapp"}, at(24 * time.Hour), "closed"},
	}
	for _, tc := range cases {
		if got := ApproxWindow(tc.apps, tc.last, now).State; got != tc.want {
			t.Errorf("%v %v: %s, want %s", tc.apps, tc.last, got, tc.want)
		}
	}
}

func TestUnknownSendOffersSendAgain(t *testing.T) {
	m := msg("text", "<b>maybe</b> sent", `{}`)
	m.Direction, m.Status, m.PolicyReason = "out", "unknown", "ok"
	m.Finish()
	for _, tc := range []struct{ locale, label, button string }{
		{"en", "Outcome unknown", "Send again"},
		{"it", "Esito sconosciuto", "Invia di nuovo"},
	} {
		var buf bytes.Buffer
		if err := MessageItem(m, MessageContext{CanRetry: true}).Render(WithLocale(context.Background(), tc.locale), &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(buf.String()))
		if err != nil {
			t.Fatal(err)
		}
		if tk := byTestID(doc, "ticks"); len(tk) != 1 || attr(tk[0], "aria-label") != tc.label {
			t.Errorf("%s: unknown ticks missing", tc.locale)
		}
		again := byTestID(doc, "send-again")
		if len(byTestID(doc, "send-unknown")) != 1 || len(again) != 1 || text(again[0]) != tc.button {
			t.Errorf("%s: unknown notice or send again missing", tc.locale)
		}
		if strings.Contains(buf.String(), "<b>maybe") || len(byTestID(doc, "send-error")) != 0 {
			t.Errorf("%s: unescaped text or a failure shown", tc.locale)
		}
	}
	// Without an outbox there is nothing to send it with.
	doc, _ := render(t, MessageItem(m, MessageContext{}))
	if len(byTestID(doc, "send-again")) != 0 {
		t.Error("send again offered without an outbox")
	}
}

func TestSendRefusedByPolicyShowsTheReason(t *testing.T) {
	m := msg("text", "hi", `{}`)
	m.Direction, m.Status, m.PolicyReason, m.ErrorTitle = "out", "failed", "blocked", "Not sent: blocked"
	m.Finish()
	doc, _ := render(t, MessageItem(m, MessageContext{CanRetry: true}))
	r := byTestID(doc, "send-refusal")
	if len(r) != 1 || attr(r[0], "data-reason") != "blocked" || !strings.Contains(text(r[0]), "blocked or reported") {
		t.Error("the policy's reason is not shown")
	}
}

func TestCampaignSettingsTabFieldError(t *testing.T) {
	doc, _ := render(t, CampaignSettingsTab(SettingsView{Tab: "campaigns", StopWords: `STOP,,<b>x</b>`, StopWordsError: "empty word"}))
	in := byTestID(doc, "stop-words")
	if len(in) != 1 || attr(in[0], "value") != `STOP,,<b>x</b>` || attr(in[0], "aria-invalid") != "true" {
		t.Fatalf("stop words input: %v", in)
	}
	if errs := byTestID(doc, "stop-words-error"); len(errs) != 1 || text(errs[0]) != "empty word" {
		t.Fatal("no field error")
	}
	doc, _ = render(t, CampaignSettingsTab(SettingsView{Tab: "campaigns", StopWords: "STOP"}))
	if len(byTestID(doc, "stop-words-error")) != 0 || attr(byTestID(doc, "stop-words")[0], "aria-invalid") != "" {
		t.Fatal("a field error without an error")
	}
}

func TestCampaignReportDefersRows(t *testing.T) {
	v := CampaignReportView{ID: 7, RowsURL: "/campaigns/7/recipients", RowsPageURL: "/campaigns/7?rows=1",
		AttributionURL: "/campaigns/7/attribution", AttributionDays: "40", AttributionError: "1 to 30"}
	doc, _ := render(t, CampaignReportPage(v))
	later := byTestID(doc, "report-rows-later")
	if len(later) != 1 || attr(later[0], "hx-get") != "/campaigns/7/recipients" || len(byTestID(doc, "report-table")) != 0 {
		t.Fatal("the table should load later")
	}
	// The filter form's own values make the fragment's query (a query in hx-get would be sent twice).
	if f := byTestID(doc, "report-filter"); len(f) != 1 || attr(f[0], "hx-get") != "/campaigns/7/recipients" {
		t.Fatal("the filter form should load the fragment")
	}
	if l := byTestID(doc, "report-show-rows"); len(l) != 1 || attr(l[0], "href") != "/campaigns/7?rows=1" {
		t.Fatal("no no-JS link to the table")
	}
	if in := byTestID(doc, "attribution-days"); len(in) != 1 || attr(in[0], "value") != "40" || attr(in[0], "aria-invalid") != "true" {
		t.Fatal("attribution field")
	}
	if e := byTestID(doc, "attribution-error"); len(e) != 1 || text(e[0]) != "1 to 30" {
		t.Fatal("attribution field error")
	}
	v.RowsShown, v.Rows = true, []CampaignRecipientLine{{Name: "<i>Ada</i>", Status: "sent"}}
	v.NextURL, v.NextRowsURL = "/campaigns/7?after=9&rows=1", "/campaigns/7/recipients?after=9"
	doc, raw := render(t, CampaignReportPage(v))
	if len(byTestID(doc, "report-row")) != 1 || len(byTestID(doc, "report-rows-later")) != 0 || strings.Contains(raw, "<i>Ada</i>") {
		t.Fatal("rows on the page (rows=1), escaped")
	}
	if n := byTestID(doc, "report-next"); len(n) != 1 || attr(n[0], "hx-get") != "/campaigns/7/recipients?after=9" || attr(n[0], "href") != "/campaigns/7?after=9&rows=1" {
		t.Fatal("next page links")
	}
}

func TestNativeGroupReceiptInBothLanguages(t *testing.T) {
	m := models.Message{ID: 7, Direction: "out", Kind: "text", Text: "Sabato alle 10", Status: "read", SentAt: time.Now()}
	tests := []struct {
		locale string
		r      models.GroupReceipt
		want   string
	}{
		{"en", models.GroupReceipt{Of: 5, Delivered: 4, Read: 3}, "read by 3 of 5 · delivered to 4 of 5"},
		{"en", models.GroupReceipt{Of: 5, Delivered: 4}, "delivered to 4 of 5"},
		{"en", models.GroupReceipt{Of: 5, Delivered: 5, Read: 5}, "read by 5 of 5"},
		{"it", models.GroupReceipt{Of: 5, Delivered: 4, Read: 3}, "letto da 3 su 5 · consegnato a 4 su 5"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		mc := MessageContext{Receipts: map[int64]models.GroupReceipt{m.ID: tc.r}}
		if err := MessageItem(m, mc).Render(WithLocale(context.Background(), tc.locale), &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(buf.String()))
		if err != nil {
			t.Fatal(err)
		}
		got := byTestID(doc, "group-receipt")
		if len(got) != 1 || strings.TrimSpace(text(got[0])) != tc.want {
			t.Errorf("%s %+v: %d receipts in %s, want %q", tc.locale, tc.r, len(got), buf.String(), tc.want)
		}
	}
	// A message without participant statuses (any other thread) shows none.
	if doc, _ := render(t, MessageItem(m, MessageContext{})); len(byTestID(doc, "group-receipt")) != 0 {
		t.Error("a receipt on a message of a direct thread")
	}
}

// TestUnsupportedSaysWhyInTheReadersLanguage: the adapters give a reason
// code; the thread words it in the reader's language, naming the type. A
// note stored before codes keeps its words.
func TestUnsupportedSaysWhyInTheReadersLanguage(t *testing.T) {
	cases := []struct {
		name, kind, details, locale, want string
	}{
		{"not delivered", "unsupported", `{"unsupported":{"reason":"not_delivered","explanation":"Meta did not deliver"}}`, "it", "Meta non ha consegnato il contenuto di questo messaggio: si vede solo nell'app del cliente."},
		{"not delivered, typed", "unsupported", `{"unsupported":{"type":"edit","reason":"not_delivered"}}`, "it", "(tipo edit)"},
		{"unknown type named", "unsupported", `{"unsupported":{"type":"unknown","reason":"not_delivered"}}`, "en", "Meta did not deliver this message's content: only"},
		{"a type we do not show", "unsupported", `{"unsupported":{"type":"request_welcome","reason":"type"}}`, "it", "I messaggi di tipo request_welcome non sono mostrati qui"},
		{"an attachment", "unsupported", `{"unsupported":{"type":"<b>x</b>","reason":"attachment"}}`, "en", "Attachments of type <b>x</b> are not shown here"},
		{"a poll", "poll", `{"unsupported":{"type":"poll_creation","reason":"poll","explanation":"WhatsApp sent a poll"}}`, "it", "Il cliente ha inviato un sondaggio o un voto"},
		{"stored before codes", "unsupported", `{"unsupported":{"explanation":"Meta did not deliver this (is_unsupported)"}}`, "it", "Meta did not deliver this (is_unsupported)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := MessageItem(msg(tc.kind, "", tc.details), MessageContext{}).Render(WithLocale(context.Background(), tc.locale), &buf); err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			why := byTestID(doc, "unsupported-why")
			if len(why) != 1 {
				t.Fatalf("%d explanations in %s", len(why), buf.String())
			}
			if got := text(why[0]); !strings.Contains(got, tc.want) {
				t.Errorf("explanation %q lacks %q", got, tc.want)
			}
			if strings.Contains(buf.String(), "<b>x</b>") {
				t.Error("a Meta-supplied type was not escaped")
			}
		})
	}
}
