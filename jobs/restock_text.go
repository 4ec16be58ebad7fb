package jobs

import (
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// Languages a restock alert is written in; others fall back to English.
var restockLanguages = map[string]bool{"en": true, "it": true}

// restockTexts are what the customer reads: the alert, the "notify me" ask,
// its button and the OTN request's title (≤ 65 characters at Meta).
var restockTexts = map[string]map[string]string{
	"en": {
		"alert":      "Good news: %s is back in stock!",
		"alert_url":  "Good news: %s is back in stock! %s",
		"ask":        "Shall we tell you when %s is back in stock?",
		"button":     "Notify me",
		"otn_title":  "%s is back in stock",
		"first_name": "there", // a template's first name when the profile has none
	},
	"it": {
		"alert":      "Buone notizie: %s è di nuovo disponibile!",
		"alert_url":  "Buone notizie: %s è di nuovo disponibile! %s",
		"ask":        "Vuoi che ti avvisiamo quando %s torna disponibile?",
		"button":     "Avvisami",
		"otn_title":  "%s è di nuovo disponibile",
		"first_name": "cliente",
	},
}

// regionLanguages are the WhatsApp numbers' regions whose language an alert
// can be written in (the calling code's region, libphonenumber).
var regionLanguages = map[string]string{"IT": "it", "SM": "it", "VA": "it",
	"GB": "en", "US": "en", "IE": "en", "AU": "en", "CA": "en", "NZ": "en"}

// CustomerLanguage is the language to write to a customer in: Meta's profile
// locale when stored (Messenger/Instagram), else the WhatsApp number's
// country (+39 → it), else the business's language; English at last.
func CustomerLanguage(id *models.Identity, business string) string {
	if id != nil {
		if l := strings.ToLower(strings.SplitN(strings.ReplaceAll(id.Locale, "-", "_"), "_", 2)[0]); restockLanguages[l] {
			return l
		}
		region := strings.ToUpper(id.Country)
		if region == "" && id.Phone != "" {
			if r, err := pricing.MarketOf(id.Phone, id.CreatedAt); err == nil {
				region = r.Country
			}
		}
		if l, ok := regionLanguages[region]; ok {
			return l
		}
	}
	if restockLanguages[business] {
		return business
	}
	return "en"
}

// RestockText is one customer-facing restock text in the language.
func RestockText(lang, key string, args ...any) string {
	t, ok := restockTexts[lang][key]
	if !ok {
		t = restockTexts["en"][key]
	}
	return fmt.Sprintf(t, args...)
}

// RestockOTNTitle is the OTN request's title, cut to Meta's 65 characters.
func RestockOTNTitle(lang, product string) string {
	title := RestockText(lang, "otn_title", product)
	if rs := []rune(title); len(rs) > 65 {
		title = string(rs[:65])
	}
	return title
}
