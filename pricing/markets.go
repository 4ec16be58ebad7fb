package pricing

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Meta's regional markets: every country without a rate of its own falls in
// one of them ("Other" for the rest of the world).
const (
	NorthAmerica     = "North America"
	RestOfAfrica     = "Rest of Africa"
	RestOfAPAC       = "Rest of Asia Pacific"
	RestOfCEE        = "Rest of Central & Eastern Europe"
	RestOfLatAm      = "Rest of Latin America"
	RestOfMiddleEast = "Rest of Middle East"
	RestOfWestEurope = "Rest of Western Europe"
	Other            = "Other"
)

// marketEra is the region → market assignment in force from a date on.
// Regions not listed are in Other.
type marketEra struct {
	from    time.Time
	markets map[string]string // ISO 3166-1 alpha-2 → Meta market name
	source  string
}

// eras lists Meta's market assignments, oldest first. The first is Meta's
// per-message pricing launch list (whatsapp/pricing, 1 Jul 2025); the second
// adds the markets that third-party copies of the 1 Jul 2026 EUR rate card
// show standalone (⚠ one non-Meta source). Meta moved nine more on 2026-10-01
// (announced on https://developers.facebook.com/docs/whatsapp/pricing, ⚠ list not yet there); add that era here when its list is published.
var eras = []marketEra{
	{from: date(2025, 7, 1), markets: launchMarkets(), source: "https://developers.facebook.com/docs/whatsapp/pricing (1 Jul 2025)"},
	{from: date(2026, 7, 1), markets: with(launchMarkets(), map[string]string{
		"HK": "Hong Kong", "HU": "Hungary", "PL": "Poland", "QA": "Qatar", "RO": "Romania", "SG": "Singapore",
	}), source: "third-party copy of Meta's 1 Jul 2026 rate card ⚠"},
}

func launchMarkets() map[string]string {
	m := map[string]string{
		"AR": "Argentina", "BR": "Brazil", "CL": "Chile", "CO": "Colombia", "EG": "Egypt", "FR": "France",
		"DE": "Germany", "IN": "India", "ID": "Indonesia", "IL": "Israel", "IT": "Italy", "MY": "Malaysia",
		"MX": "Mexico", "NL": "Netherlands", "NG": "Nigeria", "PK": "Pakistan", "PE": "Peru", "RU": "Russia",
		"SA": "Saudi Arabia", "ZA": "South Africa", "ES": "Spain", "TR": "Turkey", "AE": "United Arab Emirates",
		"GB": "United Kingdom",
	}
	groups := map[string][]string{
		NorthAmerica: {"US", "CA"},
		RestOfAfrica: {"DZ", "AO", "BJ", "BW", "BF", "BI", "CM", "TD", "CG", "ER", "ET", "GA", "GM", "GH", "GW", "CI", "KE",
			"LS", "LR", "LY", "MG", "MW", "ML", "MR", "MA", "MZ", "NA", "NE", "RW", "SN", "SL", "SO", "SS", "SD", "SZ",
			"TZ", "TG", "TN", "UG", "ZM"},
		RestOfAPAC: {"AF", "AU", "BD", "KH", "CN", "HK", "JP", "LA", "MN", "NP", "NZ", "PG", "PH", "SG", "LK", "TW", "TJ",
			"TH", "TM", "UZ", "VN"},
		RestOfCEE: {"AL", "AM", "AZ", "BY", "BG", "HR", "CZ", "GE", "GR", "HU", "LV", "LT", "MK", "MD", "PL", "RO", "RS",
			"SK", "SI", "UA"},
		RestOfLatAm:      {"BO", "CR", "DO", "EC", "SV", "GT", "HT", "HN", "JM", "NI", "PA", "PY", "PR", "UY", "VE"},
		RestOfMiddleEast: {"BH", "IQ", "JO", "KW", "LB", "OM", "QA", "YE"},
		RestOfWestEurope: {"AT", "BE", "DK", "FI", "IE", "NO", "PT", "SE", "CH"},
	}
	// Territories that share a calling code with their country are priced with it.
	groups["United Kingdom"] = []string{"GG", "JE", "IM"}
	for market, regions := range groups {
		for _, r := range regions {
			m[r] = market
		}
	}
	return m
}

func with(m, changes map[string]string) map[string]string {
	for k, v := range changes {
		m[k] = v
	}
	return m
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// ErrNoPhone means the recipient has no phone number (a BSUID-only WhatsApp
// user): their market is unknown and is never guessed.
var ErrNoPhone = errors.New("pricing: recipient has no phone number, market unknown")

// ErrBadPhone means the number cannot be read as E.164.
var ErrBadPhone = errors.New("pricing: not a valid E.164 phone number")

// Recipient is where a phone number is priced: its country and Meta market.
type Recipient struct {
	Country string // ISO 3166-1 alpha-2
	Market  string
}

// MarketOf places an E.164 number in Meta's market on day at, by its
// calling code's region (libphonenumber), as Meta prices.
func MarketOf(phone string, at time.Time) (Recipient, error) {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return Recipient{}, ErrNoPhone
	}
	if !strings.HasPrefix(phone, "+") {
		return Recipient{}, ErrBadPhone
	}
	num, err := phonenumbers.Parse(phone, "")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return Recipient{}, ErrBadPhone
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if region == "" || region == "ZZ" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	}
	if region == "ZZ" || region == "001" || region == "" {
		return Recipient{Market: Other}, nil // non-geographic codes (+800, +882…)
	}
	return Recipient{Country: region, Market: marketOfRegion(region, at)}, nil
}

func marketOfRegion(region string, at time.Time) string {
	era := eras[0]
	for _, e := range eras {
		if !at.Before(e.from) {
			era = e
		}
	}
	if m, ok := era.markets[region]; ok {
		return m
	}
	return Other
}

// knownMarkets are every market name any era uses, keyed by their folded spelling.
var knownMarkets = func() map[string]string {
	out := map[string]string{fold(Other): Other}
	for _, e := range eras {
		for _, m := range e.markets {
			out[fold(m)] = m
		}
	}
	return out
}()

// CanonicalMarket returns Meta's spelling of a market name read from a rate
// card (any case and spacing), or false for a name Meta does not use.
func CanonicalMarket(name string) (string, bool) {
	m, ok := knownMarkets[fold(name)]
	return m, ok
}

// Markets lists every known market name, sorted.
func Markets() []string {
	out := make([]string, 0, len(knownMarkets))
	for _, m := range knownMarkets {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// fold lowercases and collapses whitespace (rate-card cells wrap lines).
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
