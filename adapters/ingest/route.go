package ingest

import "slices"

// Accounts lists the account ids a webhook body's entries route to (Page,
// Instagram account, WhatsApp phone number or WABA), read by the same parser
// the processor applies, so the endpoint knows which channels' secrets to try.
func Accounts(app string, body []byte) []string {
	parse, ok := Parsers[app]
	if !ok {
		return nil
	}
	events, _ := parse(body) // what cannot be read is not routed, so it names no secret
	var out []string
	for i := range events {
		if a := events[i].AccountID; a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
