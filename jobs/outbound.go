package jobs

import (
	"errors"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/instagram"
	"github.com/switchboard-inbox/switchboard/adapters/messenger"
	"github.com/switchboard-inbox/switchboard/adapters/whatsapp"
	"github.com/switchboard-inbox/switchboard/models"
)

// draft is one message as the adapter will send it: built once when queuing
// (to refuse what Meta would reject) and again by the worker.
type draft struct {
	ID                int64
	Ref               string // the callback reference Meta echoes back (models.Cipher.CallbackRef)
	App               string
	Kind              string
	Text              string
	Spec              sendSpec
	Attachments       []models.Attachment
	MessagingType     string
	Tag               string
	ReplyToExternalID string
	To                adapters.Recipient
}

// outbound is the adapters' request. Our signed reference rides along in
// WhatsApp's biz_opaque_callback_data and Messenger's metadata, so a status or
// an echo of a send whose answer we lost is reconciled to this message.
func (d *draft) outbound() adapters.Outbound {
	ref := d.Ref
	out := adapters.Outbound{ID: ref, Kind: adapters.OutText, To: d.To, MessagingType: d.MessagingType, Tag: d.Tag,
		Text: d.Text, ReplyToExternalID: d.ReplyToExternalID}
	if d.App == models.AppMessenger {
		out.Metadata = ref // Instagram echoes carry no metadata
	}
	s := &d.Spec
	switch {
	case s.Template != nil:
		out.Kind, out.Text = adapters.OutTemplate, ""
		out.Template = &adapters.Template{Name: s.Template.Name, Language: s.Template.Language,
			Components: templateComponents(s.Template)}
	case s.OTNRequest != nil:
		out.Kind, out.Text = adapters.OutOTNRequest, ""
		out.OTN = &adapters.OTNRequest{Title: s.OTNRequest.Title, Payload: s.OTNRequest.Payload}
	case s.List != nil:
		out.Kind, out.ListButton = adapters.OutList, s.List.Button
		for _, sec := range s.List.Sections {
			as := adapters.Section{Title: sec.Title}
			for _, r := range sec.Rows {
				as.Choices = append(as.Choices, adapters.Choice{ID: r.ID, Title: r.Title, Description: r.Description})
			}
			out.Sections = append(out.Sections, as)
		}
	case len(s.QuickReplies) > 0:
		out.Kind = adapters.OutQuickReplies // reply buttons on WhatsApp
		for i, q := range s.QuickReplies {
			id := q
			if len(s.ChoiceIDs) == len(s.QuickReplies) {
				id = s.ChoiceIDs[i]
			}
			out.Choices = append(out.Choices, adapters.Choice{ID: id, Title: q})
		}
	case len(d.Attachments) > 0:
		a := d.Attachments[0]
		out.Kind, out.Text = adapters.OutMedia, ""
		out.Media = &adapters.Media{Type: a.Kind, URL: a.URL, Caption: a.Caption, Filename: a.Filename}
	}
	return out
}

// builders are the adapters' request builders, used to check a message before
// it is queued: a limit Meta would refuse is an InvalidError now, not a failure later.
var builders = map[string]func(adapters.Outbound) (any, error){
	models.AppMessenger: messenger.BuildSend,
	models.AppInstagram: instagram.BuildSend,
	models.AppWhatsApp:  whatsapp.BuildSend,
}

// check builds the request as the worker will, turning the adapter's refusal
// into an InvalidError naming the field.
func (d *draft) check() error {
	build := builders[d.App]
	if build == nil {
		return &InvalidError{Message: "channel: unknown app " + d.App}
	}
	if _, err := build(d.outbound()); err != nil {
		var inv *adapters.InvalidOutboundError
		if errors.As(err, &inv) {
			return &InvalidError{Message: inv.Field + ": " + inv.Reason}
		}
		return &InvalidError{Message: err.Error()}
	}
	return nil
}

// recipientOf addresses a group, or a direct thread's customer: by PSID or
// IGSID, or on WhatsApp by wa_id, phone or BSUID.
func recipientOf(app, groupID, externalID, phone, bsuid string) adapters.Recipient {
	switch {
	case groupID != "":
		return adapters.Recipient{GroupID: groupID}
	case app != models.AppWhatsApp:
		return adapters.Recipient{ExternalID: externalID}
	}
	return adapters.Recipient{ExternalID: externalID, Phone: phone, BSUID: bsuid}
}

// draftOfClaim is a claimed message as the worker sends it.
func draftOfClaim(c *models.OutboundClaim, spec sendSpec) *draft {
	return &draft{ID: c.ID, App: c.App, Kind: c.Kind, Text: c.Text, Spec: spec, Attachments: c.Attachments,
		MessagingType: c.MessagingType, Tag: c.Tag, ReplyToExternalID: c.ReplyToExternalID,
		To: recipientOf(c.App, c.GroupID, c.Recipient.ExternalID, c.Recipient.Phone, c.Recipient.BSUID)}
}
