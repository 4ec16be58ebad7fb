package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// composerTemplate shows the fields of the template the agent picked, with
// its preview (htmx asks when the picker changes).
func (s *Server) composerTemplate(w http.ResponseWriter, r *http.Request) {
	s.renderTemplateForm(w, r, func(f views.TemplateForm) templ.Component { return views.TemplateFields(f) })
}

// composerTemplatePreview re-renders the preview as the agent types.
func (s *Server) composerTemplatePreview(w http.ResponseWriter, r *http.Request) {
	s.renderTemplateForm(w, r, func(f views.TemplateForm) templ.Component { return views.TemplatePreviewBox(f.Preview) })
}

func (s *Server) renderTemplateForm(w http.ResponseWriter, r *http.Request, part func(views.TemplateForm) templ.Component) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, err := s.templateForm(r.Context(), v.BusinessID, t, q.Get("template"), q["var"])
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if f == nil { // no template chosen, or not one of this number's: no fields
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return
	}
	s.render(w, r, http.StatusOK, part(*f))
}

// templateForm is the chosen template ("name|language") of the thread's
// number with the values typed so far, or nil.
func (s *Server) templateForm(ctx context.Context, businessID int64, t *models.Thread, choice string, values []string) (*views.TemplateForm, error) {
	if choice == "" || t.ChannelID == nil {
		return nil, nil
	}
	tpls, err := s.store.WATemplates(ctx, businessID, *t.ChannelID)
	if err != nil {
		return nil, err
	}
	for i := range tpls {
		if tpls[i].Name+"|"+tpls[i].Language == choice {
			f := buildTemplateForm(t.ID, choice, &tpls[i], values)
			return &f, nil
		}
	}
	return nil, nil
}

// buildTemplateForm has one field per parameter, in the order the send
// takes them; a template synced without its parameter list takes the body's
// {{1}}, {{2}}….
func buildTemplateForm(threadID int64, choice string, tpl *models.WATemplate, values []string) views.TemplateForm {
	params := tpl.Parameters
	if len(params) == 0 {
		for n := 1; n <= views.TemplateVars(tpl.Body); n++ {
			params = append(params, models.TemplateParam{Component: "body", Name: strconv.Itoa(n)})
		}
	}
	f := views.TemplateForm{ThreadID: threadID, Name: choice}
	header, body, urls := map[string]string{}, map[string]string{}, map[int]map[string]string{}
	for i, p := range params {
		val := ""
		if i < len(values) {
			val = values[i]
		}
		f.Fields = append(f.Fields, views.TemplateField{Component: p.Component, Name: p.Name, Example: p.Example, Value: val})
		val = strings.TrimSpace(val)
		switch p.Component {
		case "header":
			header[p.Name] = val
		case "button":
			if urls[p.Index] == nil {
				urls[p.Index] = map[string]string{}
			}
			urls[p.Index][p.Name] = val
		default:
			body[p.Name] = val
		}
	}
	texts := whatsapp.ReadTemplateTexts(tpl.Components)
	if texts.Header != "" {
		f.Preview.Header = views.FillTemplate(texts.Header, header)
	}
	f.Preview.Body = views.FillTemplate(tpl.Body, body)
	buttons := make([]int, 0, len(texts.URLs))
	for i := range texts.URLs {
		buttons = append(buttons, i)
	}
	slices.Sort(buttons)
	for _, i := range buttons {
		f.Preview.URLs = append(f.Preview.URLs, views.FillTemplate(texts.URLs[i], urls[i]))
	}
	return f
}

// pickedTemplate fills the composer with the template a GET names
// (?template=name|language, the picker's no-JavaScript "show" button), and
// the values typed so far when they were typed for that same template.
func (s *Server) pickedTemplate(r *http.Request, t *models.Thread, c *views.ComposerView) error {
	q := r.URL.Query()
	choice := q.Get("template")
	if choice == "" || !c.OfferTemplates() || c.Template != nil {
		return nil
	}
	var values []string
	if q.Get("shown") == choice {
		values = q["var"]
	}
	f, err := s.templateForm(r.Context(), viewerFrom(r.Context()).BusinessID, t, choice, values)
	if err != nil {
		return err
	}
	c.Template = f
	if text := q.Get("text"); text != "" && c.Text == "" {
		c.Text = text
	}
	return nil
}
