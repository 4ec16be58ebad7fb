package web

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// The last-contacted range is days where the campaign is: "from 1 November"
// in Rome starts at midnight in Rome, and reads back as the same day.
func TestCampaignFormDatesInTheCampaignsZone(t *testing.T) {
	form := url.Values{"name": {"Saldi"}, "time_zone": {"Europe/Rome"}, "after": {"2026-11-01"}, "before": {"2026-12-01"}}
	r := httptest.NewRequest("POST", "/campaigns", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	f, _ := campaignFormValues(r)
	in, err := campaignInputOf(r, f)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC); in.Audience.LastContactedAfter == nil || !in.Audience.LastContactedAfter.Equal(want) {
		t.Fatalf("after = %v, want %v (midnight in Rome)", in.Audience.LastContactedAfter, want)
	}
	raw, _ := json.Marshal(in.Audience)
	back, _ := formOf(&models.Campaign{Name: "Saldi", TimeZone: "Europe/Rome", Audience: models.JSON(raw)})
	if back["after"] != "2026-11-01" || back["before"] != "2026-12-01" {
		t.Fatalf("the form reads back after=%q before=%q", back["after"], back["before"])
	}
	form.Set("after", "1 November")
	r = httptest.NewRequest("POST", "/campaigns", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	f, _ = campaignFormValues(r)
	var fe *models.FieldError
	if _, err := campaignInputOf(r, f); !errors.As(err, &fe) || fe.Field != "after" {
		t.Fatalf("a bad date: %v, want a field error on after", err)
	}
}

// Every bad input the campaigns' checks name has its words in English and
// Italian (the editor shows them in the reader's language; the API keeps
// the English message).
func TestCampaignFieldErrorsAreTranslated(t *testing.T) {
	var src []byte
	for _, f := range []string{"../jobs/campaign.go", "../jobs/campaign_vars.go", "../jobs/poll.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	keys := regexp.MustCompile(`(?:fieldErr|pollErr)\([^\n]*?"((?:campaign|poll)\.[a-z0-9_.]+)"`).FindAllSubmatch(src, -1)
	if len(keys) < 28 {
		t.Fatalf("found %d keyed field errors in jobs", len(keys))
	}
	for _, k := range keys {
		key := string(k[1])
		for _, lang := range []string{"en", "it"} {
			if got := views.T(views.WithLocale(t.Context(), lang), key); got == key {
				t.Errorf("%s has no %s words", key, lang)
			}
		}
	}
	fe := &models.FieldError{Field: "budget", Message: "a WhatsApp campaign needs a budget", Key: "campaign.err.budget_low", Args: []any{"0.0691", "EUR"}}
	if got := fieldMessage(views.WithLocale(t.Context(), "it"), fe); got != "Il budget è inferiore al prezzo di un messaggio (0.0691 EUR)." {
		t.Errorf("in Italian: %q", got)
	}
	if got := fieldMessage(t.Context(), &models.FieldError{Message: "as given"}); got != "as given" {
		t.Errorf("without a key: %q", got)
	}
}
