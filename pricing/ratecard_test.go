package pricing

import (
	"strings"
	"testing"
	"time"
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
	if len(markets) != len(Markets()) || len(rows) != 5*len(markets) {
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
}

func TestMarketOf(t *testing.T) {
	at := date(2026, 11, 1)
	cases := []struct{ phone, country, market string }{
		{"+393471234567", "IT", "Italy"},
		{"+436641234567", "AT", RestOfWestEurope},
		{"+12125551234", "US", NorthAmerica},
		{"+14165551234", "CA", NorthAmerica},
		{"+18765551234", "JM", RestOfLatAm}, // +1 but Jamaica: priced by region, not by "+1"
		{"+442079460000", "GB", "United Kingdom"},
		{"+447911123456", "GG", "United Kingdom"}, // a Guernsey mobile: +44, priced as the UK
		{"+919812345678", "IN", "India"},
		{"+5511987654321", "BR", "Brazil"},
		{"+2348031234567", "NG", "Nigeria"},
		{"+971501234567", "AE", "United Arab Emirates"},
		{"+61412345678", "AU", RestOfAPAC},
		{"+213551234567", "DZ", RestOfAfrica},
		{"+3545551234", "IS", Other},
	}
	for _, c := range cases {
		r, err := MarketOf(c.phone, at)
		if err != nil || r.Country != c.country || r.Market != c.market {
			t.Errorf("MarketOf(%s) = %+v, %v; want %s / %s", c.phone, r, err, c.country, c.market)
		}
	}
	if _, err := MarketOf("", at); err != ErrNoPhone {
		t.Errorf("no phone (BSUID-only customer): %v, want ErrNoPhone", err)
	}
	for _, bad := range []string{"393471234567", "+39", "+abc", "CC.AbC123"} {
		if _, err := MarketOf(bad, at); err != ErrBadPhone {
			t.Errorf("MarketOf(%q) = %v, want ErrBadPhone", bad, err)
		}
	}
}

func TestMarketsMoveOnTheirDate(t *testing.T) {
	before, on := date(2026, 6, 30), date(2026, 7, 1)
	for _, c := range []struct{ phone, before, on string }{
		{"+48501234567", RestOfCEE, "Poland"},
		{"+6591234567", RestOfAPAC, "Singapore"},
	} {
		b, _ := MarketOf(c.phone, before)
		o, _ := MarketOf(c.phone, on)
		if b.Market != c.before || o.Market != c.on {
			t.Errorf("%s: %s the day before, %s on the day; want %s, %s", c.phone, b.Market, o.Market, c.before, c.on)
		}
	}
	_ = time.UTC
}
