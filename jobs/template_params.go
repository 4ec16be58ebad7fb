package jobs

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// checkTemplateVariables wants one non-empty value per parameter of a synced
// template (header, body, URL button, in Meta's order): Meta refuses a send
// with a variable missing or empty (132000), so we refuse first.
func checkTemplateVariables(tpl *models.WATemplate, vars []string) error {
	if len(tpl.Parameters) == 0 {
		return nil // a template known without its parameters: the body's {{n}} are filled as given
	}
	if len(vars) > len(tpl.Parameters) {
		return &InvalidError{Message: fmt.Sprintf("template: %s takes %d variables, not %d", tpl.Name, len(tpl.Parameters), len(vars))}
	}
	for i, p := range tpl.Parameters {
		if i >= len(vars) || strings.TrimSpace(vars[i]) == "" {
			return &InvalidError{Message: fmt.Sprintf("template: variable %d (%s {{%s}}) is required", i+1, p.Component, p.Name)}
		}
	}
	return nil
}

// templateComponents fills Meta's components: variable i is parameter i; a
// template without a parameter list takes them all as body {{1}}, {{2}}….
func templateComponents(t *templateSpec) []adapters.TemplateComponent {
	if len(t.Variables) == 0 {
		return nil
	}
	if len(t.Params) == 0 {
		c := adapters.TemplateComponent{Type: "body"}
		for _, v := range t.Variables {
			c.Parameters = append(c.Parameters, adapters.TemplateParameter{Type: "text", Text: v})
		}
		return []adapters.TemplateComponent{c}
	}
	var out []adapters.TemplateComponent
	at := map[string]int{} // component key → its index in out
	for i, p := range t.Params {
		if i >= len(t.Variables) {
			break
		}
		key := fmt.Sprintf("%s/%d", p.Component, p.Index)
		n, ok := at[key]
		if !ok {
			c := adapters.TemplateComponent{Type: p.Component}
			if p.Component == "button" {
				c.SubType, c.Index = "url", p.Index
			}
			out = append(out, c)
			n = len(out) - 1
			at[key] = n
		}
		param := adapters.TemplateParameter{Type: "text", Text: t.Variables[i]}
		if t.Named && p.Component != "button" { // a URL suffix is always {{1}}
			param.Name = p.Name
		}
		out[n].Parameters = append(out[n].Parameters, param)
	}
	return out
}

// templateHeaderAndLinks is a template's text header and URL buttons as the
// customer reads them, their variables filled in (parameters header and
// button, in Meta's order; a URL button's suffix is its {{1}}).
func templateHeaderAndLinks(tpl *models.WATemplate, vars []string) (string, []PreviewLink) {
	var comps []struct {
		Type, Format, Text string
		Buttons            []struct{ Type, Text, URL string }
	}
	if json.Unmarshal(tpl.Components, &comps) != nil {
		return "", nil
	}
	var headerVars []string
	headerNamed := map[string]string{}
	suffix := map[int]string{}
	for i, p := range tpl.Parameters {
		if i >= len(vars) {
			break
		}
		switch p.Component {
		case "header":
			headerVars, headerNamed[p.Name] = append(headerVars, vars[i]), vars[i]
		case "button":
			suffix[p.Index] = vars[i]
		}
	}
	var header string
	var links []PreviewLink
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if strings.ToUpper(c.Format) != "TEXT" {
				continue
			}
			header = renderTemplate(c.Text, headerVars)
			for name, v := range headerNamed {
				header = strings.ReplaceAll(header, "{{"+name+"}}", v)
			}
		case "BUTTONS":
			for j, b := range c.Buttons {
				if strings.ToUpper(b.Type) != "URL" {
					continue
				}
				u := strings.ReplaceAll(b.URL, "{{1}}", suffix[j])
				if s := suffix[j]; strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
					u = s // a tracked link's slot, filled with where its token leads
				}
				links = append(links, PreviewLink{Text: b.Text, URL: u})
			}
		}
	}
	return header, links
}

// templateMessageText is what agents read for a template send: the body with
// its variables filled in, named or positional.
func templateMessageText(tpl *models.WATemplate, vars []string) string {
	if len(tpl.Parameters) == 0 || tpl.ParameterFormat != "named" {
		body := vars
		if len(tpl.Parameters) > 0 {
			body = nil
			for i, p := range tpl.Parameters {
				if p.Component == "body" && i < len(vars) {
					body = append(body, vars[i])
				}
			}
		}
		return renderTemplate(tpl.Body, body)
	}
	text := tpl.Body
	for i, p := range tpl.Parameters {
		if p.Component == "body" && i < len(vars) {
			text = strings.ReplaceAll(text, "{{"+p.Name+"}}", vars[i])
		}
	}
	return text
}
