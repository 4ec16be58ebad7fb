package views

import (
	"context"
	"regexp"
	"strconv"
)

// TemplateForm is the chosen template's fields and the message they make.
type TemplateForm struct {
	ThreadID int64
	Name     string // the select's value: name|language
	Fields   []TemplateField
	Preview  TemplatePreview
}

// TemplateField is one parameter of the template, in Meta's order: the
// form's var values are sent in this order.
type TemplateField struct {
	Component string // header, body or button
	Name      string // "1", "2"… or "first_name"
	Example   string
	Value     string
}

// TemplatePreview is the message as the customer will read it; every part
// is Meta's or the agent's text, rendered escaped.
type TemplatePreview struct {
	Header []PreviewPart
	Body   []PreviewPart
	URLs   [][]PreviewPart
}

// PreviewPart is literal template text, or a variable with its value
// (Missing when the agent has not filled it yet).
type PreviewPart struct {
	Text     string
	Variable bool
	Missing  bool
}

var variable = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// FillTemplate splits text around its {{name}} variables, filling each from
// values; an empty value keeps the {{name}} and is Missing.
func FillTemplate(text string, values map[string]string) []PreviewPart {
	var out []PreviewPart
	at := 0
	for _, m := range variable.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > at {
			out = append(out, PreviewPart{Text: text[at:m[0]]})
		}
		name := text[m[2]:m[3]]
		if v := values[name]; v != "" {
			out = append(out, PreviewPart{Text: v, Variable: true})
		} else {
			out = append(out, PreviewPart{Text: "{{" + name + "}}", Variable: true, Missing: true})
		}
		at = m[1]
	}
	if at < len(text) {
		out = append(out, PreviewPart{Text: text[at:]})
	}
	return out
}

// FieldID is the input's id: var-1, var-2… in parameter order.
func FieldID(i int) string { return "var-" + strconv.Itoa(i+1) }

// ParamLabel says where the value goes and its name: "Body {{first_name}}".
func ParamLabel(ctx context.Context, f TemplateField) string {
	return T(ctx, "composer.param."+f.Component) + " {{" + f.Name + "}}"
}
