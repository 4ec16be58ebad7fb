package messenger

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"

	"github.com/switchboard-inbox/switchboard/adapters"
)

const psid = "6723918450012345"

func TestBuildSendGolden(t *testing.T) {
	to := adapters.Recipient{ExternalID: psid}
	tests := []struct {
		name string
		out  adapters.Outbound
	}{
		{"text_response", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Text: "Yes, we ship tomorrow.", ReplyToExternalID: "m_AaBbCcDd001", Metadata: "sb:msg:8f2c"}},
		{"text_human_agent", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "MESSAGE_TAG", Tag: "HUMAN_AGENT", Text: "Sorry for the wait: your refund went out today."}},
		{"image_url", adapters.Outbound{Kind: adapters.OutMedia, To: to, MessagingType: "RESPONSE", Media: &adapters.Media{Type: "image", URL: "https://shop.example/mug.jpg", Reusable: true}}},
		{"file_attachment_id", adapters.Outbound{Kind: adapters.OutMedia, To: to, MessagingType: "RESPONSE", Media: &adapters.Media{Type: "file", MediaID: "1857777774821032"}}},
		{"quick_replies", adapters.Outbound{Kind: adapters.OutQuickReplies, To: to, MessagingType: "RESPONSE", Text: "When should we deliver?", Choices: []adapters.Choice{{ID: "DELIVERY_SLOT_AM", Title: "Morning"}, {ID: "DELIVERY_SLOT_PM", Title: "Afternoon"}}}},
		{"buttons", adapters.Outbound{Kind: adapters.OutButtons, To: to, MessagingType: "RESPONSE", Text: "Your order #2211 is packed.", Choices: []adapters.Choice{{ID: "TRACK_2211", Title: "Track it"}, {ID: "TALK_TO_US", Title: "Talk to us"}}}},
		{"utility_template", adapters.Outbound{Kind: adapters.OutTemplate, To: to, MessagingType: "UTILITY", Template: &adapters.Template{Name: "order_shipped", Language: "en_US", Components: []adapters.TemplateComponent{{Type: "body", Parameters: []adapters.TemplateParameter{{Type: "text", Text: "Sam"}, {Type: "text", Text: "#2211"}}}}}}},
		{"otn_request", adapters.Outbound{Kind: adapters.OutOTNRequest, To: to, MessagingType: "RESPONSE", OTN: &adapters.OTNRequest{Title: "Tell me when the blue mug is back", Payload: "RESTOCK_SKU_BLUE_MUG"}}},
		{"otn_send", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{OTNToken: "6792356810192837465"}, Text: "The blue mug is back in stock!"}},
		{"private_reply", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{CommentID: "998877_112233"}, Text: "Thanks! We sent you the price in a message."}},
		{"react", adapters.Outbound{Kind: adapters.OutReaction, To: to, TargetExternalID: "m_AaBbCcDd001", Reaction: "love"}},
		{"unreact", adapters.Outbound{Kind: adapters.OutReaction, To: to, TargetExternalID: "m_AaBbCcDd001"}},
		{"typing_on", adapters.Outbound{Kind: adapters.OutTypingOn, To: to}},
		{"mark_seen", adapters.Outbound{Kind: adapters.OutMarkSeen, To: to}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := BuildSend(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			parsetest.CheckGolden(t, filepath.Join("testdata", "send", tt.name+".golden.json"), body)
		})
	}
}

func TestBuildSendRejects(t *testing.T) {
	to := adapters.Recipient{ExternalID: psid}
	text := func(s string) adapters.Outbound {
		return adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Text: s}
	}
	tests := []struct {
		name  string
		out   adapters.Outbound
		field string
	}{
		{"text over 2000 characters", text(strings.Repeat("é", 2001)), "text"},
		{"empty text", text(""), "text"},
		{"no messaging type", adapters.Outbound{Kind: adapters.OutText, To: to, Text: "hi"}, "messaging_type"},
		{"tag without MESSAGE_TAG", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Tag: "HUMAN_AGENT", Text: "hi"}, "tag"},
		{"MESSAGE_TAG without tag", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "MESSAGE_TAG", Text: "hi"}, "tag"},
		{"no recipient", adapters.Outbound{Kind: adapters.OutText, MessagingType: "RESPONSE", Text: "hi"}, "to"},
		{"two recipients", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{ExternalID: psid, OTNToken: "x"}, Text: "hi"}, "to"},
		{"phone recipient", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{ExternalID: psid, Phone: "+16505551234"}, MessagingType: "RESPONSE", Text: "hi"}, "to"},
		{"OTN title over 65", adapters.Outbound{Kind: adapters.OutOTNRequest, To: to, MessagingType: "RESPONSE", OTN: &adapters.OTNRequest{Title: strings.Repeat("a", 66), Payload: "P"}}, "otn.title"},
		{"OTN without payload", adapters.Outbound{Kind: adapters.OutOTNRequest, To: to, MessagingType: "RESPONSE", OTN: &adapters.OTNRequest{Title: "t"}}, "otn"},
		{"quick reply title over 20", adapters.Outbound{Kind: adapters.OutQuickReplies, To: to, MessagingType: "RESPONSE", Text: "?", Choices: []adapters.Choice{{ID: "A", Title: strings.Repeat("x", 21)}}}, "choices.title"},
		{"14 quick replies", adapters.Outbound{Kind: adapters.OutQuickReplies, To: to, MessagingType: "RESPONSE", Text: "?", Choices: make([]adapters.Choice, 14)}, "choices"},
		{"4 buttons", adapters.Outbound{Kind: adapters.OutButtons, To: to, MessagingType: "RESPONSE", Text: "?", Choices: make([]adapters.Choice, 4)}, "choices"},
		{"list", adapters.Outbound{Kind: adapters.OutList, To: to, MessagingType: "RESPONSE", Text: "?"}, "kind"},
		{"media without source", adapters.Outbound{Kind: adapters.OutMedia, To: to, MessagingType: "RESPONSE", Media: &adapters.Media{Type: "image"}}, "media"},
		{"sticker media", adapters.Outbound{Kind: adapters.OutMedia, To: to, MessagingType: "RESPONSE", Media: &adapters.Media{Type: "sticker", URL: "https://x"}}, "media.type"},
		{"reaction without target", adapters.Outbound{Kind: adapters.OutReaction, To: to, Reaction: "love"}, "target_external_id"},
		{"template without name", adapters.Outbound{Kind: adapters.OutTemplate, To: to, MessagingType: "UTILITY", Template: &adapters.Template{Language: "en_US"}}, "template"},
		{"metadata over 1000", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Text: "hi", Metadata: strings.Repeat("m", 1001)}, "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildSend(tt.out)
			var inv *adapters.InvalidOutboundError
			if !errors.As(err, &inv) || inv.Field != tt.field || inv.App != adapters.Messenger {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestBuildSendAcceptsLimits(t *testing.T) {
	out := adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{ExternalID: psid}, MessagingType: "RESPONSE", Text: strings.Repeat("é", 2000)}
	if _, err := BuildSend(out); err != nil {
		t.Fatalf("2000 characters refused: %v", err)
	}
	otn := adapters.Outbound{Kind: adapters.OutOTNRequest, To: adapters.Recipient{ExternalID: psid}, MessagingType: "RESPONSE", OTN: &adapters.OTNRequest{Title: strings.Repeat("ü", 65), Payload: "P"}}
	if _, err := BuildSend(otn); err != nil {
		t.Fatalf("65-character OTN title refused: %v", err)
	}
}
