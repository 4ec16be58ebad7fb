package metasim

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Meta's template-send errors (WhatsApp Cloud API error codes).
const (
	CodeTemplatePaused   = 132015 // template is paused for low quality
	CodeTemplateDisabled = 132016 // template is disabled for low quality
)

// templateSendable refuses templates Meta would not send.
func templateSendable(t Template) *metaError {
	switch t.Status {
	case "", "APPROVED":
		return nil
	case "PAUSED":
		return &metaError{Status: http.StatusBadRequest, Code: CodeTemplatePaused,
			Message: "(#132015) Cannot send message as the template is paused", Details: "Template is paused due to low quality"}
	case "DISABLED":
		return &metaError{Status: http.StatusBadRequest, Code: CodeTemplateDisabled,
			Message: "(#132016) Cannot send message as the template is disabled", Details: "Template is disabled due to low quality"}
	}
	return errTemplateMissing(t.Name, t.Language) // pending or rejected: no approved translation
}

func templateID(waba, name, lang string) string {
	h := fnv.New64a()
	h.Write([]byte(waba + "|" + name + "|" + lang))
	return strconv.FormatUint(1_000_000_000_000_000+h.Sum64()%8_000_000_000_000_000, 10)
}

// TemplateExamples are templates with every shape the sync must read: named
// and positional variables in header, body and URL button, and a REJECTED and
// a PAUSED one.
func TemplateExamples() []Template {
	return []Template{
		{Name: "back_in_stock_named", Language: "en_US", Category: "MARKETING", ParameterFormat: "NAMED",
			Header: "{{product}} is back", Body: "Hi {{first_name}}, {{product}} is back in stock. Tap below before it goes again.",
			URL: "https://shop.example/p/{{1}}"},
		{Name: "order_shipped", Language: "it", Category: "UTILITY",
			Body: "Ciao {{1}}, il tuo ordine {{2}} è stato spedito.", URL: "https://shop.example/track/{{1}}"},
		{Name: "spring_teaser", Language: "en_US", Category: "MARKETING", Status: "REJECTED", Reason: "INVALID_FORMAT",
			Body: "Big news coming {{1}}!!!"},
		{Name: "winter_sale", Language: "en_US", Category: "MARKETING", Status: "PAUSED", Reason: "FIRST_PAUSE",
			Body: "Hi {{1}}, winter sale: 30% off everything."},
	}
}

// AddTemplateExamples adds TemplateExamples to a WhatsApp account.
func (s *Sim) AddTemplateExamples(accountID string) error {
	for _, t := range TemplateExamples() {
		if err := s.AddTemplate(accountID, t); err != nil {
			return err
		}
	}
	return nil
}

// SetTemplateStatus changes a template's status as Meta's review or quality
// rating does, and posts message_template_status_update.
func (s *Sim) SetTemplateStatus(accountID, name, language, status, reason string) error {
	return s.changeTemplate(accountID, name, language, func(a *account, t *Template) webhookEvent {
		t.Status, t.Reason = strings.ToUpper(status), reason
		if reason == "" {
			reason = "NONE"
		}
		return a.event(0, "message_template_status_update", obj{
			"event": t.Status, "message_template_id": jsonNumber(t.ID), "message_template_name": t.Name,
			"message_template_language": t.Language, "reason": reason,
		})
	})
}

// SetTemplateCategory re-categorises a template, as Meta may, and posts template_category_update.
func (s *Sim) SetTemplateCategory(accountID, name, language, category string) error {
	return s.changeTemplate(accountID, name, language, func(a *account, t *Template) webhookEvent {
		prev := t.Category
		t.Category = strings.ToUpper(category)
		return a.event(0, "template_category_update", obj{
			"message_template_id": jsonNumber(t.ID), "message_template_name": t.Name, "message_template_language": t.Language,
			"previous_category": prev, "new_category": t.Category,
		})
	})
}

func (s *Sim) changeTemplate(accountID, name, language string, change func(*account, *Template) webhookEvent) error {
	var ev webhookEvent
	var missing bool
	err := s.withAccount(accountID, func(a *account) {
		t, ok := a.templates[name+"|"+language]
		if !ok {
			missing = true
			return
		}
		ev = change(a, &t)
		a.templates[name+"|"+language] = t
	})
	if err != nil {
		return err
	}
	if missing {
		return fmt.Errorf("metasim: account %s has no template %s/%s", accountID, name, language)
	}
	s.hooks.schedule([]webhookEvent{ev})
	return nil
}

// jsonNumber writes a numeric id as the JSON number Meta sends.
type jsonNumber string

// MarshalJSON implements json.Marshaler.
func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// Graph's default page size for edges.
const defaultTemplateLimit = 25

// handleMessageTemplates is GET /{version}/{WABA_ID}/message_templates with
// cursor paging (limit, after), as Graph pages edges.
func (s *Sim) handleMessageTemplates(w http.ResponseWriter, r *http.Request) {
	version, waba := r.PathValue("version"), r.PathValue("id")
	if !validVersion(version) {
		s.refuse(w, WhatsApp, "", errUnknownPath(r.URL.Path))
		return
	}
	q := r.URL.Query()
	limit := defaultTemplateLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			s.refuse(w, WhatsApp, "", errParam("(#100) Param limit must be a positive integer"))
			return
		}
		limit = min(n, 1000)
	}
	offset := 0
	if after := q.Get("after"); after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err == nil {
			offset, err = strconv.Atoi(string(b))
		}
		if err != nil || offset < 0 {
			s.refuse(w, WhatsApp, "", errParam("(#100) Invalid cursor"))
			return
		}
	}
	all, merr := s.wabaTemplates(accessToken(r), waba)
	if merr != nil {
		s.refuse(w, WhatsApp, "", merr)
		return
	}
	fields := fieldSet(q.Get("fields"))
	end := min(offset+limit, len(all))
	data := make([]obj, 0, max(0, end-offset))
	for _, t := range all[min(offset, len(all)):end] {
		data = append(data, templateObject(t, fields))
	}
	page := obj{"data": data}
	if len(data) > 0 {
		paging := obj{"cursors": obj{"before": cursor(offset), "after": cursor(end)}}
		if end < len(all) {
			next := url.Values{}
			for k, v := range q {
				next[k] = v
			}
			next.Set("limit", strconv.Itoa(limit))
			next.Set("after", cursor(end))
			next.Del("access_token")
			base := s.BaseURL()
			if base == "" {
				base = "http://" + r.Host // an httptest server that never told us its URL
			}
			paging["next"] = base + "/" + version + "/" + waba + "/message_templates?" + next.Encode()
		}
		page["paging"] = paging
	}
	writeJSON(w, http.StatusOK, page)
}

func cursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}

// wabaTemplates are the templates of every number of the WABA the token may read, in a stable order.
func (s *Sim) wabaTemplates(tok, waba string) ([]Template, *metaError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case tok == "":
		return nil, errNoToken()
	case s.revoked[tok]:
		return nil, errTokenInvalidated()
	case s.tokens[tok] == 0:
		return nil, errBadToken()
	}
	byKey := map[string]Template{}
	allowed := false
	for _, id := range s.order {
		a := s.accounts[id]
		if a.App != WhatsApp || a.WABAID != waba {
			continue
		}
		allowed = allowed || a.AccessToken == tok
		for k, t := range a.templates {
			byKey[k] = t
		}
	}
	if !allowed {
		return nil, errUnsupportedObject("get", waba)
	}
	out := make([]Template, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+"|"+out[i].Language < out[j].Name+"|"+out[j].Language })
	return out, nil
}

func fieldSet(fields string) map[string]bool {
	set := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			set[f] = true
		}
	}
	if len(set) == 0 { // Graph's default fields for this edge
		for _, f := range []string{"name", "language", "status", "category"} {
			set[f] = true
		}
	}
	return set
}

var simPlaceholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// templateObject is one template as message_templates lists it, with only the asked fields (and id).
func templateObject(t Template, fields map[string]bool) obj {
	o := obj{"id": t.ID}
	named := strings.EqualFold(t.ParameterFormat, "NAMED")
	all := obj{
		"name": t.Name, "language": t.Language, "status": t.Status, "category": t.Category,
		"parameter_format": map[bool]string{true: "NAMED", false: "POSITIONAL"}[named],
		"components":       templateComponents(t, named),
	}
	if t.Reason != "" && t.Status == "REJECTED" {
		all["rejected_reason"] = t.Reason
	}
	for k, v := range all {
		if fields[k] {
			o[k] = v
		}
	}
	return o
}

func templateComponents(t Template, named bool) []obj {
	var comps []obj
	if t.Header != "" {
		c := obj{"type": "HEADER", "format": "TEXT", "text": t.Header}
		if vars := simPlaceholder.FindAllStringSubmatch(t.Header, -1); len(vars) > 0 {
			if named {
				c["example"] = obj{"header_text_named_params": []obj{{"param_name": vars[0][1], "example": "Linen shirt"}}}
			} else {
				c["example"] = obj{"header_text": []string{"Linen shirt"}}
			}
		}
		comps = append(comps, c)
	}
	body := obj{"type": "BODY", "text": t.Body}
	if vars := simPlaceholder.FindAllStringSubmatch(t.Body, -1); len(vars) > 0 {
		if named {
			var ps []obj
			seen := map[string]bool{}
			for _, v := range vars {
				if !seen[v[1]] {
					seen[v[1]] = true
					ps = append(ps, obj{"param_name": v[1], "example": "sample " + v[1]})
				}
			}
			body["example"] = obj{"body_text_named_params": ps}
		} else {
			samples := make([]string, len(vars))
			for i := range vars {
				samples[i] = "sample " + strconv.Itoa(i+1)
			}
			body["example"] = obj{"body_text": [][]string{samples}}
		}
	}
	comps = append(comps, body)
	if t.URL != "" {
		b := obj{"type": "URL", "text": "Open", "url": t.URL}
		if strings.Contains(t.URL, "{{") {
			b["example"] = []string{simPlaceholder.ReplaceAllString(t.URL, "12345")}
		}
		comps = append(comps, obj{"type": "BUTTONS", "buttons": []obj{b}})
	}
	return comps
}

// RemoveTemplate deletes a template, as a business does in WhatsApp Manager.
func (s *Sim) RemoveTemplate(accountID, name, language string) error {
	return s.withAccount(accountID, func(a *account) { delete(a.templates, name+"|"+language) })
}
