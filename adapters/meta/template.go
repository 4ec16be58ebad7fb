package meta

import (
	"strconv"

	"github.com/switchboard-inbox/switchboard/adapters"
)

// Template is the wire shape of a template send, the same for WhatsApp
// templates and Messenger utility messages.
type Template struct {
	Name       string              `json:"name"`
	Language   TemplateLanguage    `json:"language"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// TemplateLanguage names the template's translation.
type TemplateLanguage struct {
	Code string `json:"code"`
}

// TemplateComponent fills one component's variables.
type TemplateComponent struct {
	Type       string              `json:"type"`
	SubType    string              `json:"sub_type,omitempty"`
	Index      string              `json:"index,omitempty"` // Meta wants the button index as a string
	Parameters []TemplateParameter `json:"parameters,omitempty"`
}

// TemplateParameter is one variable value.
type TemplateParameter struct {
	Type          string     `json:"type"`
	ParameterName string     `json:"parameter_name,omitempty"`
	Text          string     `json:"text,omitempty"`
	Payload       string     `json:"payload,omitempty"`
	Image         *MediaLink `json:"image,omitempty"`
	Video         *MediaLink `json:"video,omitempty"`
	Document      *MediaLink `json:"document,omitempty"`
}

// MediaLink points a template header at media by URL.
type MediaLink struct {
	Link string `json:"link"`
}

// TemplateBody builds the wire template from ours.
func TemplateBody(t adapters.Template) Template {
	out := Template{Name: t.Name, Language: TemplateLanguage{Code: t.Language}}
	for _, c := range t.Components {
		wc := TemplateComponent{Type: c.Type, SubType: c.SubType}
		if c.Type == "button" {
			wc.Index = strconv.Itoa(c.Index)
		}
		for _, p := range c.Parameters {
			wp := TemplateParameter{Type: p.Type, ParameterName: p.Name}
			switch p.Type {
			case "payload":
				wp.Payload = p.Text
			case "image":
				wp.Image = &MediaLink{Link: p.MediaURL}
			case "video":
				wp.Video = &MediaLink{Link: p.MediaURL}
			case "document":
				wp.Document = &MediaLink{Link: p.MediaURL}
			default:
				wp.Text = p.Text
			}
			wc.Parameters = append(wc.Parameters, wp)
		}
		out.Components = append(out.Components, wc)
	}
	return out
}
