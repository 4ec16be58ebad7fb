package web

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
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
