package adapters

import (
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// PhoneFromWaID turns a WhatsApp wa_id (country code and number, digits only)
// into E.164. It returns "" for anything else, such as a BSUID.
func PhoneFromWaID(waID string) string {
	if len(waID) < 4 || len(waID) > 15 {
		return ""
	}
	for _, r := range waID {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return "+" + waID
}

// CountryOf returns the ISO 3166-1 alpha-2 region of an E.164 number, or ""
// when libphonenumber cannot place it. A number libphonenumber does not know
// as valid falls back to the main region of its calling code, which is what
// WhatsApp prices by.
func CountryOf(e164 string) string {
	if e164 == "" {
		return ""
	}
	if c, ok := countries.Load(e164); ok {
		return c.(string)
	}
	c := countryOf(e164)
	if countriesSize.Add(1) > maxCountries {
		countries.Clear() // a bounded memo: customers who write often stay in it
		countriesSize.Store(1)
	}
	countries.Store(e164, c)
	return c
}

// countries memoises CountryOf: libphonenumber's parse is regular
// expressions, most of a small webhook's parse time, and the same customers
// write again and again.
var (
	countries     sync.Map
	countriesSize atomic.Int64
)

const maxCountries = 100_000

func countryOf(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if region == "" || region == "ZZ" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	}
	if region == "ZZ" || region == "001" {
		return "" // unknown, or a non-geographic code such as +800
	}
	return region
}
