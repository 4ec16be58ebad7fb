package messenger

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Accounts lists the account ids a Messenger or Instagram webhook body routes
// to, as Parse would set them (the entry's id, else each item's business
// side), reading nothing else: the endpoint uses it to pick the secrets to
// verify against. It reads the body in place (no decoding), as it runs on
// every POST.
func Accounts(body []byte) []string {
	if !gjson.ValidBytes(body) {
		return nil
	}
	var out []string
	ok := true
	add := func(r gjson.Result) {
		id, good := meta.IDOf(r)
		ok = ok && good
		if a := string(id); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	gjson.Get(string(body), "entry").ForEach(func(_, e gjson.Result) bool {
		if id, _ := meta.IDOf(e.Get("id")); id != "" {
			add(e.Get("id"))
			return true
		}
		for _, list := range []string{"messaging", "standby"} {
			e.Get(list).ForEach(func(_, it gjson.Result) bool {
				if it.Get("message.is_echo").Bool() {
					add(it.Get("sender.id")) // in an echo the business is the sender
				} else {
					add(it.Get("recipient.id"))
				}
				return ok
			})
		}
		return ok
	})
	if !ok {
		return nil
	}
	return out
}
