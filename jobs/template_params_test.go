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
