package jobs

import (
	"errors"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
)

func TestCheckTemplateVariablesRefusesAnEmptyParameter(t *testing.T) {
	named := &models.WATemplate{Name: "order_ready", Parameters: models.TemplateParams{
		{Component: "header", Name: "order"}, {Component: "body", Name: "first_name"}, {Component: "button", Index: 1, Name: "1"}}}
	bare := &models.WATemplate{Name: "back_in_stock", Body: "Ciao {{1}}"}
	cases := []struct {
		name string
		tpl  *models.WATemplate
		vars []string
		ok   bool
	}{
		{"every parameter filled", named, []string{"B-7", "Anna", "42"}, true},
		{"button suffix missing", named, []string{"B-7", "Anna"}, false},
		{"body blank", named, []string{"B-7", "  ", "42"}, false},
		{"one too many", named, []string{"B-7", "Anna", "42", "x"}, false},
		{"no parameter list: as given", bare, []string{"Anna"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTemplateVariables(tc.tpl, tc.vars)
			var invalid *InvalidError
			if tc.ok != (err == nil) || (err != nil && !errors.As(err, &invalid)) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// A campaign's preview shows the header and URL buttons as the customer
// gets them, their variables filled in, named or positional.
func TestTemplateHeaderAndLinks(t *testing.T) {
	comps := models.JSON(`[{"type":"HEADER","format":"TEXT","text":"Ordine {{1}}"},{"type":"BODY","text":"Ciao {{1}}"},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","text":"Traccia","url":"https://shop.example/t/{{1}}"}]}]`)
	tpl := &models.WATemplate{Name: "order_ready", Body: "Ciao {{1}}", Components: comps, Parameters: models.TemplateParams{
		{Component: "header", Name: "1"}, {Component: "body", Name: "1"}, {Component: "button", Index: 1, Name: "1"}}}
	header, links := templateHeaderAndLinks(tpl, []string{"B-7", "Anna", "B7?x=<1>"})
	if header != "Ordine B-7" {
		t.Errorf("header %q", header)
	}
	if len(links) != 1 || links[0].Text != "Traccia" || links[0].URL != "https://shop.example/t/B7?x=<1>" {
		t.Errorf("links %+v", links)
	}
	named := &models.WATemplate{Name: "n", ParameterFormat: "named", Components: models.JSON(`[{"type":"HEADER","format":"TEXT","text":"Per {{first_name}}"}]`),
		Parameters: models.TemplateParams{{Component: "header", Name: "first_name"}}}
	if h, _ := templateHeaderAndLinks(named, []string{"Giulia"}); h != "Per Giulia" {
		t.Errorf("named header %q", h)
	}
	if h, l := templateHeaderAndLinks(&models.WATemplate{Components: models.JSON(`[{"type":"HEADER","format":"IMAGE"}]`)}, nil); h != "" || l != nil {
		t.Errorf("an image header: %q %v", h, l)
	}
}
