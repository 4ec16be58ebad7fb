package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// A restock alert outside the window uses the product's template only while
// Meta lists it approved on the customer's channel.
func TestRestockTemplateMustBeApprovedOnTheChannel(t *testing.T) {
	store := modelstest.NewStore(t)
	ctx := context.Background()
	biz, _ := store.CreateBusiness(ctx, "Shop")
	ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: "PN1", AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: "whatsapp", AccountID: "PN2", AccessToken: "t"})
	for _, tp := range []models.WATemplate{
		{BusinessID: biz.ID, ChannelID: ch.ID, Name: "back_in_stock", Language: "it", Category: "marketing", Status: "approved", Body: "x"},
		{BusinessID: biz.ID, ChannelID: ch.ID, Name: "paused_one", Language: "it", Category: "marketing", Status: "paused", Body: "x"},
	} {
		if err := store.Gorm(ctx).Create(&tp).Error; err != nil {
			t.Fatal(err)
		}
	}
	src := syncedTemplates{store}
	for _, c := range []struct {
		channel      int64
		name, lang   string
		wantName     string
		wantLanguage string
	}{
		{ch.ID, "back_in_stock", "it", "back_in_stock", "it"},
		{ch.ID, "back_in_stock", "en", "", ""},    // not in that language
		{ch.ID, "paused_one", "it", "", ""},       // paused at Meta
		{other.ID, "back_in_stock", "it", "", ""}, // not synced from that channel's WABA
		{ch.ID, "", "", "", ""},                   // the product names no template
	} {
		name, lang, _, err := src.RestockTemplate(ctx, biz.ID, c.channel, &models.Product{WATemplateName: c.name, WATemplateLanguage: c.lang})
		if err != nil || name != c.wantName || lang != c.wantLanguage {
			t.Errorf("%s/%s on channel %d: %q %q %v, want %q %q", c.name, c.lang, c.channel, name, lang, err, c.wantName, c.wantLanguage)
		}
	}
}

// Each template parameter gets the value it names; a two-variable body gets
// the first name and the product, never an extra URL Meta would refuse.
func TestRestockVariablesFollowTheTemplate(t *testing.T) {
	p := &models.Product{Name: "Giacca blu", URL: "https://shop.example/gb"}
	for _, c := range []struct {
		params models.TemplateParams
		want   string
	}{
		{nil, "Anna|Giacca blu|https://shop.example/gb"},
		{models.TemplateParams{{Component: "body", Name: "1"}, {Component: "body", Name: "2"}}, "Anna|Giacca blu"},
		{models.TemplateParams{{Component: "header", Name: "product"}, {Component: "body", Name: "first_name"},
			{Component: "body", Name: "product"}, {Component: "button", Name: "1"}}, "Giacca blu|Anna|Giacca blu|https://shop.example/gb"},
	} {
		if got := strings.Join(restockVariables(c.params, "Anna", p), "|"); got != c.want {
			t.Errorf("%v: %q, want %q", c.params, got, c.want)
		}
	}
}
