package jobs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
)

// Campaign variables. Each template parameter (header, body, URL-button
// suffix, in Meta's order) is mapped to a string of fixed text and
// placeholders:
//
//	{first_name|cliente}          a contact field, with the fallback when it is empty
//	{link:https://shop.example/x} a tracked link: BASE_URL/c/<token> (in a URL-button slot, only the token)
//
// Fields: first_name, last_name, name, phone, country. A name that is one
// word has no last name; a name that is a phone number or empty has no first
// name: the fallback is used, and a slot that would still be empty skips the
// recipient (variables_unfilled) instead of sending an empty variable.
var campaignFields = map[string]bool{"first_name": true, "last_name": true, "name": true, "phone": true, "country": true}

// RecipientFields are the contact fields a recipient's variables read.
type RecipientFields struct {
	Name    string // the contact's name, else the identity's display name
	Phone   string
	Country string
}

func (f RecipientFields) get(field string) string {
	name := strings.TrimSpace(f.Name)
	words := strings.Fields(name)
	if len(words) > 0 && (strings.HasPrefix(words[0], "+") || strings.IndexFunc(words[0], func(r rune) bool { return r < '0' || r > '9' }) < 0) {
		words, name = nil, "" // a phone number shown as the name is no name
	}
	switch field {
	case "first_name":
		if len(words) > 0 {
			return words[0]
		}
	case "last_name":
		if len(words) > 1 {
			return strings.Join(words[1:], " ")
		}
	case "name":
		return name
	case "phone":
		return f.Phone
	case "country":
		return f.Country
	}
	return ""
}

// varPart is one piece of a slot: fixed text, a field with its fallback, or a link.
type varPart struct {
	text     string
	field    string
	fallback string
	link     string
}

// parseVariable reads one slot's mapping; the error says what is wrong.
func parseVariable(s string) ([]varPart, error) {
	var parts []varPart
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			parts = append(parts, varPart{text: s})
			break
		}
		if i > 0 {
			parts = append(parts, varPart{text: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed { in %q", s)
		}
		inner := s[i+1 : i+j]
		s = s[i+j+1:]
		if link, ok := strings.CutPrefix(inner, "link:"); ok {
			u, err := url.Parse(strings.TrimSpace(link))
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("{link:…} needs an http(s) URL, not %q", link)
			}
			parts = append(parts, varPart{link: u.String()})
			continue
		}
		field, fallback, _ := strings.Cut(inner, "|")
		field = strings.TrimSpace(field)
		if !campaignFields[field] {
			return nil, fmt.Errorf("unknown field {%s}: use first_name, last_name, name, phone or country", field)
		}
		parts = append(parts, varPart{field: field, fallback: fallback})
	}
	return parts, nil
}

// CheckCampaignVariables validates a mapping against the template's
// parameters: one non-empty mapping per parameter, each parseable. The
// error is a *models.FieldError naming the variable.
func CheckCampaignVariables(tpl *models.WATemplate, vars []string) error {
	n := len(tpl.Parameters)
	if n == 0 {
		n = strings.Count(tpl.Body, "{{")
	}
	if len(vars) > n {
		return fieldErr("variables", "campaign.err.variables_count", "template %s takes %d variables, not %d", tpl.Name, n, len(vars))
	}
	for i := range n {
		if i >= len(vars) || strings.TrimSpace(vars[i]) == "" {
			return fieldErr(fmt.Sprintf("variables[%d]", i), "campaign.err.variable_required", "variable %d (%s) of template %s is required",
				i+1, slotLabel(tpl, i), tpl.Name)
		}
		parts, err := parseVariable(vars[i])
		if err != nil {
			return &models.FieldError{Field: fmt.Sprintf("variables[%d]", i), Message: err.Error()}
		}
		if isButtonSlot(tpl, i) {
			for _, p := range parts {
				if p.link != "" && len(parts) > 1 {
					return fieldErr(fmt.Sprintf("variables[%d]", i), "campaign.err.link_alone", "a URL-button suffix with a tracked link takes only the {link:…}")
				}
			}
		}
	}
	return nil
}

func isButtonSlot(tpl *models.WATemplate, i int) bool {
	return i < len(tpl.Parameters) && tpl.Parameters[i].Component == "button"
}

func slotLabel(tpl *models.WATemplate, i int) string {
	if i < len(tpl.Parameters) {
		return tpl.Parameters[i].Component + " {{" + tpl.Parameters[i].Name + "}}"
	}
	return fmt.Sprintf("body {{%d}}", i+1)
}

// Personaliser fills a campaign's variables for one recipient.
type Personaliser struct {
	BaseURL string // where /c/<token> is served
	Cipher  *models.Cipher
}

// Fill returns one value per slot, or ok false when a slot would be empty
// (a field without a fallback the recipient lacks). recipientID 0 (a test
// send) puts the real URL in place of a tracked link.
func (p Personaliser) Fill(tpl *models.WATemplate, vars []string, f RecipientFields, recipientID int64) ([]string, bool) {
	out := make([]string, len(vars))
	for i, v := range vars {
		parts, err := parseVariable(v)
		if err != nil {
			return nil, false
		}
		var b strings.Builder
		for _, part := range parts {
			switch {
			case part.link != "":
				switch {
				case recipientID == 0 || p.Cipher == nil:
					b.WriteString(part.link) // a test send: no recipient to record a click against
				case isButtonSlot(tpl, i):
					b.WriteString(p.Cipher.CampaignClickToken(recipientID, i))
				default:
					b.WriteString(strings.TrimRight(p.BaseURL, "/") + "/c/" + p.Cipher.CampaignClickToken(recipientID, i))
				}
			case part.field != "":
				val := strings.TrimSpace(f.get(part.field))
				if val == "" {
					val = strings.TrimSpace(part.fallback)
				}
				b.WriteString(val)
			default:
				b.WriteString(part.text)
			}
		}
		out[i] = strings.TrimSpace(b.String())
		if out[i] == "" {
			return nil, false
		}
	}
	return out, true
}
