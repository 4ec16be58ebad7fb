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

// marketChange is one dated change of Meta's region → market map: from that
// day each listed region (ISO 3166-1 alpha-2, as libphonenumber names it) is
// priced in the named market (Other: back to the rest of the world).
type marketChange struct {
	from   time.Time
	moves  map[string]string
	source string
}

// marketChanges are Meta's changes, oldest first: the data the map is built
// from. Regions never listed are in Other.
var marketChanges = []marketChange{
	{from: date(2025, 7, 1), moves: launchMarkets(),
		source: "https://developers.facebook.com/docs/whatsapp/pricing (per-message pricing launch, 1 Jul 2025)"},
	{from: date(2025, 10, 1), moves: map[string]string{"ZW": RestOfAfrica},
		source: "Meta's 1 Oct 2025 pricing update: +263 Zimbabwe moves from Other to Rest of Africa (BSP copies of the notice ⚠)"},
	{from: date(2026, 7, 1), moves: map[string]string{
		"HK": "Hong Kong", "HU": "Hungary", "PL": "Poland", "QA": "Qatar", "RO": "Romania", "SG": "Singapore",
	}, source: "third-party copy of Meta's 1 Jul 2026 rate card ⚠"},
	// Nine markets leave their regions for standalone rates, each with an
	// authentication-international rate (Western Sahara shares Morocco's +212).
	{from: date(2026, 10, 1), moves: map[string]string{
		"BD": "Bangladesh", "IQ": "Iraq", "NP": "Nepal", "LK": "Sri Lanka", "KZ": "Kazakhstan",
		"KW": "Kuwait", "MA": "Morocco", "EH": "Morocco", "OM": "Oman", "UA": "Ukraine",
	}, source: "https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing (announced Jun 2026 ⚠)"},
}

// marketEra is the whole region → market map in force from a date on.
type marketEra struct {
	from    time.Time
	markets map[string]string
}

// eras are marketChanges applied one after the other.
var eras = func() []marketEra {
	var out []marketEra
	cur := map[string]string{}
	for _, c := range marketChanges {
		next := make(map[string]string, len(cur)+len(c.moves))
		for r, m := range cur {
			next[r] = m
		}
		for r, m := range c.moves {
			if m == Other {
				delete(next, r)
			} else {
				next[r] = m
			}
		}
		out = append(out, marketEra{from: c.from, markets: next})
		cur = next
	}
	return out
}()

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
	// Territories that share a calling code with their country are priced
	// with it (Meta prices by calling code): Guernsey, Jersey and Man (+44),
	// the Vatican (+39), Åland (+358), Svalbard (+47), Christmas and Cocos
	// Islands (+61), Western Sahara (+212).
	groups["United Kingdom"] = []string{"GG", "JE", "IM"}
	groups["Italy"] = []string{"VA"}
	groups[RestOfWestEurope] = append(groups[RestOfWestEurope], "AX", "SJ")
	groups[RestOfAPAC] = append(groups[RestOfAPAC], "CX", "CC")
	groups[RestOfAfrica] = append(groups[RestOfAfrica], "EH")
	for market, regions := range groups {
		for _, r := range regions {
			m[r] = market
		}
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
