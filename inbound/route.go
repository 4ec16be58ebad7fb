package inbound

import (
	"github.com/switchboard-inbox/switchboard/adapters/messenger"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

// accountReaders read only the account ids of a webhook body, as the
// app's Parse sets them (route_test.go holds them to agree).
var accountReaders = map[string]func([]byte) []string{
	models.AppMessenger: messenger.Accounts,
	models.AppInstagram: messenger.Accounts,
	models.AppWhatsApp:  whatsapp.Accounts,
}

// Accounts lists the account ids a webhook body's entries route to (Page,
// Instagram account, WhatsApp phone number or WABA), so the endpoint knows
// which channels' secrets to try. The processor still checks every event it
// applies against the secret that signed the body.
func Accounts(app string, body []byte) []string {
	if read, ok := accountReaders[app]; ok {
		return read(body)
	}
	return nil
}
