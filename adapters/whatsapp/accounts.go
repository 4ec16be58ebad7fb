package whatsapp

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Accounts lists the account ids a webhook body routes to, as Parse would
// set them (each change's phone_number_id, else the entry's WABA id), reading
// nothing else: the endpoint uses it to pick the secrets to verify against.
// It reads the body in place (no decoding), as it runs on every POST.
func Accounts(body []byte) []string {
	if !gjson.ValidBytes(body) {
		return nil
	}
	var out []string
	ok := true
	gjson.Get(string(body), "entry").ForEach(func(_, e gjson.Result) bool {
		waba, good := meta.IDOf(e.Get("id"))
		ok = ok && good
		e.Get("changes").ForEach(func(_, c gjson.Result) bool {
			pn, good := meta.IDOf(c.Get("value.metadata.phone_number_id"))
			ok = ok && good
			a := string(pn)
			if a == "" {
				a = string(waba)
			}
			if a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
			return ok
		})
		return ok
	})
	if !ok {
		return nil // an id that is neither string nor number: Parse refuses the body too
	}
	return out
}
