package jobs_test

import (
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

func TestCustomerLanguage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		id       *models.Identity
		business string
		want     string
	}{
		{"Messenger profile locale", &models.Identity{App: models.AppMessenger, Locale: "it_IT"}, "en", "it"},
		{"profile locale beats the business", &models.Identity{App: models.AppInstagram, Locale: "en_GB"}, "it", "en"},
		{"a locale we do not write falls back to the business", &models.Identity{App: models.AppMessenger, Locale: "fr_FR"}, "it", "it"},
		{"WhatsApp +39", &models.Identity{App: models.AppWhatsApp, Phone: "+393470000001"}, "en", "it"},
		{"WhatsApp +44", &models.Identity{App: models.AppWhatsApp, Phone: "+447700900123"}, "it", "en"},
		{"WhatsApp +49: the business's", &models.Identity{App: models.AppWhatsApp, Phone: "+4915112345678"}, "it", "it"},
		{"stored country", &models.Identity{App: models.AppWhatsApp, Country: "IT"}, "en", "it"},
		{"nothing known", &models.Identity{App: models.AppMessenger}, "en", "en"},
		{"no identity, unknown business language", nil, "de", "en"},
	} {
		if got := jobs.CustomerLanguage(tc.id, tc.business); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if title := jobs.RestockOTNTitle("it", "Giacca blu di lana cotta lavorata a mano in Val Seriana, taglia unica"); len([]rune(title)) != 65 {
		t.Errorf("OTN title of %d characters: %q", len([]rune(title)), title)
	}
}

// TestRestockAlertLanguage: each customer reads the alert in their language:
// the Messenger profile's locale, the WhatsApp number's country, else the
// business's language (its admin's).
func TestRestockAlertLanguage(t *testing.T) {
	e := newEnv(t, nil)
	open := testNow.Add(-time.Hour)
	msIt := e.customer(models.AppMessenger, "7001", open)
	msNone := e.customer(models.AppMessenger, "7002", open)
	waIt := e.customer(models.AppWhatsApp, "393470000021", open)
	waUK := e.customer(models.AppWhatsApp, "447700900021", open)
	if err := e.store.SetIdentityLocale(e.ctx, e.biz.ID, msIt.identity.ID, "it_IT"); err != nil {
		t.Fatal(err)
	}
	p := e.product("GB-1", "Giacca blu", 0)
	for _, c := range []*customer{msIt, msNone, waIt, waUK} {
		e.join(c, p, 0)
	}
	e.runDone(e.setStock("GB-1", 10).Run.ID)
	e.jobsDone()
	it := "Buone notizie: Giacca blu è di nuovo disponibile! https://shop.example/p/GB-1"
	en := "Good news: Giacca blu is back in stock! https://shop.example/p/GB-1"
	for c, want := range map[*customer]string{msIt: it, msNone: en, waIt: it, waUK: en} {
		if n := countText(e.alertsTo(c), want); n != 1 {
			t.Errorf("%s %s: Meta got %d of %q (sends %v)", c.app, c.identity.ExternalID, n, want, e.alertsTo(c))
		}
	}

	// An Italian business: a customer with nothing else known reads Italian.
	if _, err := e.store.CreateUser(e.ctx, e.biz.ID, "titolare@bottega.test", "Titolare", "x", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE users SET locale = 'it' WHERE email = 'titolare@bottega.test'`).Error; err != nil {
		t.Fatal(err)
	}
	e.setStock("GB-1", 0)
	e.join(msNone, p, 0)
	e.runDone(e.setStock("GB-1", 10).Run.ID)
	e.jobsDone()
	if n := countText(e.alertsTo(msNone), it); n != 1 {
		t.Errorf("customer of an Italian business: Meta got %d Italian alerts (sends %v)", n, e.alertsTo(msNone))
	}
}
