package views

import (
	"strconv"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/models"
)

// AttachmentURL is where the browser loads an attachment: Meta's own link
// when it gave one, else our /media proxy, which fetches a WhatsApp media id
// through the Graph API (its URLs need the business's token).
func AttachmentURL(a models.Attachment) (templ.SafeURL, bool) {
	if u, ok := SafeExternalURL(firstNonEmpty(a.URL)); ok {
		return u, true
	}
	if a.MediaID != "" && a.ID != 0 {
		return templ.SafeURL("/media/" + strconv.FormatInt(a.ID, 10)), true
	}
	return "", false
}

// atHandle shows a username as @name, and nothing for no username.
func atHandle(username string) string {
	if username == "" {
		return ""
	}
	return "@" + username
}
