package messenger

import (
	"encoding/json"
	"slices"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Accounts lists the account ids a Messenger or Instagram webhook body routes
// to, as Parse would set them (the entry's id, else each item's business
// side), reading nothing else: the endpoint uses it to pick the secrets to
// verify against.
func Accounts(body []byte) []string {
	var env struct {
		Entry []struct {
			ID        meta.ID       `json:"id"`
			Messaging []accountItem `json:"messaging"`
			Standby   []accountItem `json:"standby"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, e := range env.Entry {
		if e.ID != "" {
			add(string(e.ID))
			continue
		}
		for _, it := range append(e.Messaging, e.Standby...) {
			if it.Message != nil && it.Message.IsEcho {
				add(string(it.Sender.ID)) // in an echo the business is the sender
			} else {
				add(string(it.Recipient.ID))
			}
		}
	}
	return out
}

// accountItem is the part of a messaging item that names the business.
type accountItem struct {
	Sender    party `json:"sender"`
	Recipient party `json:"recipient"`
	Message   *struct {
		IsEcho bool `json:"is_echo"`
	} `json:"message"`
}
