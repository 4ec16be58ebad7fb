package pricing

import (
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

var oct1 = date(2026, 10, 1)

func TestSampleRateCardParses(t *testing.T) {
	rows, errs := ParseRateCard(SampleRateCard, oct1)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	markets := map[string]bool{}
	for _, r := range rows {
		markets[r.Market] = true
		if r.Currency != "USD" || !r.EffectiveFrom.Equal(oct1) {
			t.Fatalf("row %+v", r)
		}
	}
	if len(markets) < 40 || len(markets) != len(Markets()) || len(rows) != 5*len(markets) {
		t.Fatalf("%d markets, %d rows; want every one of %d markets × 5 categories", len(markets), len(rows), len(Markets()))
	}
	for _, r := range []string{NorthAmerica, RestOfAfrica, RestOfAPAC, RestOfCEE, RestOfLatAm, RestOfMiddleEast, RestOfWestEurope, Other} {
		if !markets[r] {
			t.Errorf("region %s missing", r)
		}
	}
	for _, r := range rows {
		if r.Market == RestOfWestEurope && r.Category == "marketing" && r.PriceMicros != 59_200 {
			t.Errorf("Rest of Western Europe marketing = %d micros, want 59200", r.PriceMicros)
		}
		if r.Market == "Italy" && r.Category == "authentication_international" && !r.Unavailable {
			t.Errorf("Italy authentication-international should be n/a")
		}
	}
}

const header = "Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n"

func TestRateCardBadInput(t *testing.T) {
	cases := []struct {
		name, csv string
		want      []LineError
	}{
		{"empty file", "", []LineError{{1, "the file is empty"}}},
		{"blank lines only", "\n  \n", []LineError{{1, "the file is empty"}}},
		{"missing header", "Italy,EUR,0.06,0.02,0.02,n/a,0.01\n", []LineError{{1, "wrong or missing header"}}},
		{"wrong header", "Market,Currency,Marketing,Utility\nItaly,EUR,0.06,0.02,0.02,n/a,0.01\n", []LineError{{1, "wrong or missing header"}}},
		{"header only", header, []LineError{{1, "header but no markets"}}},
		{"unknown market", header + "Italy,EUR,0.06,0.02,0.02,n/a,0.01\nAtlantis,EUR,0.06,0.02,0.02,n/a,0.01\n",
			[]LineError{{3, `unknown market "Atlantis"`}}},
		{"negative rate", header + "Italy,EUR,-0.06,0.02,0.02,n/a,0.01\n", []LineError{{2, "negative rate"}}},
		{"empty rate", header + "Italy,EUR,,0.02,0.02,n/a,0.01\n", []LineError{{2, "empty rate"}}},
		{"non-numeric rate", header + "Italy,EUR,0.06,abc,0.02,n/a,0.01\n", []LineError{{2, "not a number"}}},
		{"comma decimal", header + "Italy,EUR,\"0,06\",0.02,0.02,n/a,0.01\n", []LineError{{2, "not a number"}}},
		{"currency differs", header + "Italy,EUR,0.06,0.02,0.02,n/a,0.01\nSpain,USD,0.06,0.02,0.02,n/a,0.01\n",
			[]LineError{{3, "currency USD differs from EUR on line 2"}}},
		{"market twice", header + "Italy,EUR,0.06,0.02,0.02,n/a,0.01\nitaly,EUR,0.07,0.02,0.02,n/a,0.01\n",
			[]LineError{{3, `market "Italy" appears twice (first on line 2)`}}},
		{"every bad line reported", header + "Atlantis,EUR,1,1,1,1,1\nItaly,EUR,x,1,1,1,1\nSpain,EUR,1,1,1,1\n",
			[]LineError{{2, "unknown market"}, {3, "not a number"}, {4, "has 6 columns"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, errs := ParseRateCard([]byte(c.csv), oct1)
			if rows != nil {
				t.Errorf("rows %v returned with errors: nothing may be half-imported", rows)
			}
			if len(errs) != len(c.want) {
				t.Fatalf("errors %v, want %v", errs, c.want)
			}
			for i, w := range c.want {
				if errs[i].Line != w.Line || !strings.Contains(errs[i].Message, w.Message) {
					t.Errorf("error %d = %+v, want line %d containing %q", i, errs[i], w.Line, w.Message)
				}
			}
		})
	}
}

func TestRateCardMultiLineHeaderAndNA(t *testing.T) {
	csv := "\"Market\",\"Currency\",\"Marketing\",\"Utility\",\"Authentication\",\"Authentication-\nInternational\",\"Service\"\n" +
		"\"Rest of Central &\nEastern Europe\",eur,0.0712,0.0175,0.0175,N/A,0.0175\n"
	rows, errs := ParseRateCard([]byte(csv), oct1)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if rows[0].Market != RestOfCEE || rows[0].Currency != "EUR" || rows[0].PriceMicros != 71_200 || !rows[3].Unavailable {
		t.Fatalf("rows %+v", rows)
	}
}

func TestMicros(t *testing.T) {
	for in, want := range map[string]int64{"0.0592": 59_200, "1": 1_000_000, ".5": 500_000, "0.000001": 1, "12.25": 12_250_000} {
		if got, err := ParseMicros(in); err != nil || got != want {
			t.Errorf("ParseMicros(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1e3", "0.0000001", "1.", "NaN", "0x10"} {
		if _, err := ParseMicros(in); err == nil {
			t.Errorf("ParseMicros(%q) accepted", in)
		}
	}
	for m, want := range map[int64]string{59_200: "0.0592", 1_000_000: "1.0000", 1: "0.000001", 69_100: "0.0691"} {
		if got := FormatMicros(m); got != want {
			t.Errorf("FormatMicros(%d) = %q, want %q", m, got, want)
		}
	}
	for m, want := range map[int64]string{10_000_000: "10.00", 1_860_200: "1.8602", 1_500_000: "1.50", -2_500_000: "-2.50", 1: "0.000001"} {
		if got := FormatAmount(m); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", m, got, want)
		}
	}
}

// TestMarketOf places numbers the day before and on Meta's 2026-10-01
// change: nine markets leave their regions then, the others stay put.
func TestMarketOf(t *testing.T) {
	before, on := date(2026, 9, 30), date(2026, 10, 1)
	cases := []struct{ phone, country, before, on string }{
		{"+393471234567", "IT", "Italy", "Italy"},
		{"+436641234567", "AT", RestOfWestEurope, RestOfWestEurope}, // Austria never left its region
		{"+12125551234", "US", NorthAmerica, NorthAmerica},
		{"+14165551234", "CA", NorthAmerica, NorthAmerica},
		{"+18765551234", "JM", RestOfLatAm, RestOfLatAm}, // +1 but Jamaica: priced by region, not by "+1"
		{"+442079460000", "GB", "United Kingdom", "United Kingdom"},
		{"+447911123456", "GG", "United Kingdom", "United Kingdom"}, // a Guernsey mobile: +44, priced as the UK
		{"+919812345678", "IN", "India", "India"},
		{"+5511987654321", "BR", "Brazil", "Brazil"},
		{"+2348031234567", "NG", "Nigeria", "Nigeria"},
		{"+971501234567", "AE", "United Arab Emirates", "United Arab Emirates"},
		{"+61412345678", "AU", RestOfAPAC, RestOfAPAC},
		{"+213551234567", "DZ", RestOfAfrica, RestOfAfrica},
		{"+263771234567", "ZW", RestOfAfrica, RestOfAfrica}, // out of Other since 2025-10-01
		{"+3545551234", "IS", Other, Other},
		{"+8801712345678", "BD", RestOfAPAC, "Bangladesh"},
		{"+9647901234567", "IQ", RestOfMiddleEast, "Iraq"},
		{"+9779841234567", "NP", RestOfAPAC, "Nepal"},
		{"+94771234567", "LK", RestOfAPAC, "Sri Lanka"},
		{"+77011234567", "KZ", Other, "Kazakhstan"},
		{"+96550012345", "KW", RestOfMiddleEast, "Kuwait"},
		{"+212612345678", "MA", RestOfAfrica, "Morocco"},
		{"+96892123456", "OM", RestOfMiddleEast, "Oman"},
		{"+380501234567", "UA", RestOfCEE, "Ukraine"},
		{"+74951234567", "RU", "Russia", "Russia"}, // +7 but not Kazakhstan
	}
	for _, c := range cases {
		for _, at := range []struct {
			day    time.Time
			market string
		}{{before, c.before}, {on, c.on}} {
			r, err := MarketOf(c.phone, at.day)
			if err != nil || r.Country != c.country || r.Market != at.market {
				t.Errorf("MarketOf(%s, %s) = %+v, %v; want %s / %s", c.phone, at.day.Format(time.DateOnly), r, err, c.country, at.market)
			}
		}
	}
	if _, err := MarketOf("", on); err != ErrNoPhone {
		t.Errorf("no phone (BSUID-only customer): %v, want ErrNoPhone", err)
	}
	for _, bad := range []string{"393471234567", "+39", "+abc", "CC.AbC123"} {
		if _, err := MarketOf(bad, on); err != ErrBadPhone {
			t.Errorf("MarketOf(%q) = %v, want ErrBadPhone", bad, err)
		}
	}
}

// TestEveryRegionHasAMarket: on every era's first day, each region
// libphonenumber knows lands in a market Meta's rate card names (or Other),
// and the map names only regions libphonenumber knows and markets the card has.
func TestEveryRegionHasAMarket(t *testing.T) {
	known := map[string]bool{}
	for r := range phonenumbers.GetSupportedRegions() {
		known[r] = true
	}
	if len(known) < 200 {
		t.Fatalf("libphonenumber knows %d regions", len(known))
	}
	card, errs := ParseRateCard(SampleRateCard, oct1)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	onCard := map[string]bool{}
	for _, r := range card {
		onCard[r.Market] = true
	}
	for _, c := range marketChanges {
		for r, m := range c.moves {
			if !known[r] {
				t.Errorf("%s: region %q is not one libphonenumber knows", c.from.Format(time.DateOnly), r)
			}
			if m != Other && !onCard[m] {
				t.Errorf("%s: market %q is not on the rate card", c.from.Format(time.DateOnly), m)
			}
		}
		used := map[string]bool{}
		for r := range known {
			m := marketOfRegion(r, c.from)
			if _, ok := CanonicalMarket(m); !ok || !onCard[m] {
				t.Errorf("%s: %s → %q, not a market of the rate card", c.from.Format(time.DateOnly), r, m)
			}
			used[m] = true
		}
		if c.from.Equal(oct1) && len(used) != 47 {
			t.Errorf("on %s regions fall in %d markets, want Meta's 47", c.from.Format(time.DateOnly), len(used))
		}
	}
}

func TestMarketsMoveOnTheirDate(t *testing.T) {
	for _, c := range []struct {
		phone      string
		on         time.Time
		before, at string
	}{
		{"+48501234567", date(2026, 7, 1), RestOfCEE, "Poland"},
		{"+6591234567", date(2026, 7, 1), RestOfAPAC, "Singapore"},
		{"+263771234567", date(2025, 10, 1), Other, RestOfAfrica},
		{"+380501234567", oct1, RestOfCEE, "Ukraine"},
	} {
		b, _ := MarketOf(c.phone, c.on.AddDate(0, 0, -1))
		o, _ := MarketOf(c.phone, c.on)
		if b.Market != c.before || o.Market != c.at {
			t.Errorf("%s: %s the day before, %s on the day; want %s, %s", c.phone, b.Market, o.Market, c.before, c.at)
		}
	}
}
