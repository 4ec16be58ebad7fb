package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// templateFields are the fields the template sync asks Graph for.
const templateFields = "name,language,status,category,components,parameter_format"

// maxTemplatePages bounds one sync: at 100 a page, 250 WABA templates is
// Meta's default cap, so 100 pages is far beyond any real account.
const maxTemplatePages = 100

// Graph is what the template fetch needs of the Graph client.
type Graph interface {
	Get(ctx context.Context, token string, query url.Values, path ...string) (json.RawMessage, error)
	GetNext(ctx context.Context, token, next string) (json.RawMessage, error)
}

// FetchTemplates lists every template of a WhatsApp Business Account:
// GET /{WABA_ID}/message_templates, following paging.next to the end.
// pageSize 0 asks for 100 a page.
func FetchTemplates(ctx context.Context, g Graph, token, wabaID string, pageSize int) ([]models.WATemplate, error) {
	if wabaID == "" {
		return nil, errors.New("whatsapp: channel has no WABA id")
	}
	if pageSize <= 0 {
		pageSize = 100
	}
	q := url.Values{"fields": {templateFields}, "limit": {strconv.Itoa(pageSize)}}
	raw, err := g.Get(ctx, token, q, wabaID, "message_templates")
	var out []models.WATemplate
	for page := 1; ; page++ {
		if err != nil {
			return nil, fmt.Errorf("whatsapp: list templates of WABA %s (page %d): %w", wabaID, page, err)
		}
		var p wireTemplatePage
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("whatsapp: decode templates page %d: %w", page, err)
		}
		for _, t := range p.Data {
			out = append(out, t.model())
		}
		if p.Paging.Next == "" || len(p.Data) == 0 {
			return out, nil
		}
		if page == maxTemplatePages {
			return nil, fmt.Errorf("whatsapp: WABA %s lists more than %d pages of templates", wabaID, maxTemplatePages)
		}
		raw, err = g.GetNext(ctx, token, p.Paging.Next)
	}
}

type wireTemplatePage struct {
	Data   []wireTemplate `json:"data"`
	Paging struct {
		Next string `json:"next"`
	} `json:"paging"`
}

type wireTemplate struct {
	ID              meta.ID            `json:"id"`
	Name            string             `json:"name"`
	Language        string             `json:"language"`
	Status          string             `json:"status"`
	Category        string             `json:"category"`
	ParameterFormat string             `json:"parameter_format"` // POSITIONAL or NAMED
	Components      []wireTemplateComp `json:"components"`
	rawComponents   json.RawMessage    // kept as Meta sent them
}

type wireTemplateComp struct {
	Type    string `json:"type"`   // HEADER, BODY, FOOTER, BUTTONS
	Format  string `json:"format"` // header: TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
	Text    string `json:"text"`
	Example struct {
		HeaderText      []string          `json:"header_text"`
		BodyText        [][]string        `json:"body_text"`
		HeaderNamed     []wireNamedSample `json:"header_text_named_params"`
		BodyNamed       []wireNamedSample `json:"body_text_named_params"`
		HeaderHandleURL []string          `json:"header_handle"`
	} `json:"example"`
	Buttons []struct {
		Type    string   `json:"type"` // URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, OTP…
		Text    string   `json:"text"`
		URL     string   `json:"url"`
		Example []string `json:"example"`
	} `json:"buttons"`
}

type wireNamedSample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// UnmarshalJSON keeps the components as Meta sent them besides reading them.
func (t *wireTemplate) UnmarshalJSON(b []byte) error {
	type plain wireTemplate
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var rest struct {
		Components json.RawMessage `json:"components"`
	}
	_ = json.Unmarshal(b, &rest)
	*t = wireTemplate(p)
	t.rawComponents = rest.Components
	return nil
}

// placeholder is {{1}} or {{first_name}}, as Meta writes template variables.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

func (t wireTemplate) model() models.WATemplate {
	m := models.WATemplate{
		MetaID: string(t.ID), Name: t.Name, Language: t.Language,
		Category: TemplateCategory(t.Category), ParameterFormat: "positional",
		Parameters: models.TemplateParams{}, Components: models.JSON(t.rawComponents),
	}
	m.Status, m.StatusReason = TemplateStatus(t.Status)
	if strings.EqualFold(t.ParameterFormat, "named") {
		m.ParameterFormat = "named"
	}
	if len(m.Components) == 0 {
		m.Components = models.JSON("[]")
	}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if strings.EqualFold(c.Format, "TEXT") || c.Format == "" {
				m.Parameters = append(m.Parameters, params("header", 0, c.Text, c.Example.HeaderNamed, firstSample(c.Example.HeaderText))...)
			}
		case "BODY":
			m.Body = c.Text
			var samples []string
			if len(c.Example.BodyText) > 0 {
				samples = c.Example.BodyText[0]
			}
			m.Parameters = append(m.Parameters, params("body", 0, c.Text, c.Example.BodyNamed, samples)...)
		case "BUTTONS":
			for i, b := range c.Buttons {
				if strings.EqualFold(b.Type, "URL") {
					// Meta allows one variable, at the end of the URL.
					m.Parameters = append(m.Parameters, params("button", i, b.URL, nil, b.Example)...)
				}
			}
		}
	}
	return m
}

// params lists the variables of one text in order of first appearance.
func params(component string, index int, text string, named []wireNamedSample, positional []string) []models.TemplateParam {
	var out []models.TemplateParam
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if seen[name] {
			continue
		}
		seen[name] = true
		p := models.TemplateParam{Component: component, Index: index, Name: name}
		for _, s := range named {
			if s.ParamName == name {
				p.Example = s.Example
			}
		}
		if n := len(out); p.Example == "" && n < len(positional) {
			p.Example = positional[n]
		}
		out = append(out, p)
	}
	return out
}

func firstSample(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s[:1]
}

// TemplateCategory lowercases Meta's category; the retired names map to
// today's, and anything unknown is treated as marketing, the strictest.
func TemplateCategory(c string) string {
	switch strings.ToUpper(c) {
	case "UTILITY", "TRANSACTIONAL", "ACCOUNT_UPDATE", "ALERT_UPDATE", "APPOINTMENT_UPDATE", "PAYMENT_UPDATE",
		"PERSONAL_FINANCE_UPDATE", "RESERVATION_UPDATE", "SHIPPING_UPDATE", "TICKET_UPDATE", "TRANSPORTATION_UPDATE", "ISSUE_RESOLUTION":
		return models.CategoryUtility
	case "AUTHENTICATION", "OTP":
		return models.CategoryAuthentication
	}
	return models.CategoryMarketing
}

// templateStatuses are Meta's template statuses and webhook events we store.
var templateStatuses = map[string]string{
	"APPROVED": "approved", "REINSTATED": "approved", "PENDING": "pending", "REJECTED": "rejected",
	"PAUSED": "paused", "DISABLED": "disabled", "FLAGGED": "flagged", "IN_APPEAL": "in_appeal",
	"PENDING_DELETION": "pending_deletion", "DELETED": "deleted", "ARCHIVED": "archived", "LIMIT_EXCEEDED": "limit_exceeded",
}

// TemplateStatus lowercases Meta's status or webhook event; an unknown one
// is kept as pending (never sendable) with the raw value as its reason.
func TemplateStatus(s string) (status, reason string) {
	if st, ok := templateStatuses[strings.ToUpper(s)]; ok {
		return st, ""
	}
	return "pending", "unknown Meta status " + s
}

// wireTemplateUpdate is the value of both template webhooks.
type wireTemplateUpdate struct {
	Event            string  `json:"event"`
	ID               meta.ID `json:"message_template_id"`
	Name             string  `json:"message_template_name"`
	Language         string  `json:"message_template_language"`
	Reason           string  `json:"reason"`
	PreviousCategory string  `json:"previous_category"`
	NewCategory      string  `json:"new_category"`
	CorrectCategory  string  `json:"correct_category"` // older spelling of new_category
	OtherInfo        struct {
		Title string `json:"title"` // e.g. FIRST_PAUSE on a PAUSED event
	} `json:"other_info"`
}

// templateUpdate reads a message_template_status_update or template_category_update value.
func (b *batch) templateUpdate(field string, raw json.RawMessage) (adapters.Event, error) {
	var w wireTemplateUpdate
	if err := json.Unmarshal(raw, &w); err != nil {
		return adapters.Event{}, err
	}
	if w.Name == "" && w.ID == "" {
		return adapters.Event{}, errors.New("template update names no template")
	}
	u := &adapters.TemplateUpdate{MetaID: string(w.ID), Name: w.Name, Language: w.Language}
	if field == "template_category_update" {
		cat := w.NewCategory
		if cat == "" {
			cat = w.CorrectCategory
		}
		if cat == "" {
			return adapters.Event{}, errors.New("category update without new_category")
		}
		u.Category = TemplateCategory(cat)
		if w.PreviousCategory != "" {
			u.PreviousCategory = TemplateCategory(w.PreviousCategory)
		}
	} else {
		if w.Event == "" {
			return adapters.Event{}, errors.New("status update without event")
		}
		u.Status, u.Reason = TemplateStatus(w.Event)
		if w.Reason != "" && w.Reason != "NONE" {
			u.Reason = w.Reason
		} else if w.OtherInfo.Title != "" {
			u.Reason = w.OtherInfo.Title
		}
	}
	return adapters.Event{App: adapters.WhatsApp, AccountID: b.accountID, Type: adapters.EventTemplate, Template: u}, nil
}

// TemplateTexts is what a template's header and URL buttons read, variables
// and all, for the composer's preview.
type TemplateTexts struct {
	Header string
	URLs   map[int]string // URL button position → its URL
}

// ReadTemplateTexts reads the header text and URL buttons from the
// components as Meta sent them; unreadable components read as none.
func ReadTemplateTexts(components models.JSON) TemplateTexts {
	out := TemplateTexts{URLs: map[int]string{}}
	var cs []wireTemplateComp
	if len(components) == 0 || json.Unmarshal(components, &cs) != nil {
		return out
	}
	for _, c := range cs {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if strings.EqualFold(c.Format, "TEXT") || c.Format == "" {
				out.Header = c.Text
			}
		case "BUTTONS":
			for i, b := range c.Buttons {
				if strings.EqualFold(b.Type, "URL") {
					out.URLs[i] = b.URL
				}
			}
		}
	}
	return out
}
