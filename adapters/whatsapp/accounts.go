package whatsapp

import (
	"encoding/json"
	"slices"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Accounts lists the account ids a webhook body routes to, as Parse would
// set them (each change's phone_number_id, else the entry's WABA id), reading
// nothing else: the endpoint uses it to pick the secrets to verify against.
func Accounts(body []byte) []string {
	var env struct {
		Entry []struct {
			ID      meta.ID `json:"id"`
			Changes []struct {
				Value struct {
					Metadata struct {
						PhoneNumberID meta.ID `json:"phone_number_id"`
					} `json:"metadata"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	var out []string
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			a := string(c.Value.Metadata.PhoneNumberID)
			if a == "" {
				a = string(e.ID)
			}
			if a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
