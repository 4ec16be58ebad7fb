package adapters

import "github.com/nyaruka/phonenumbers"

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
