package whatsapp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"

	"github.com/switchboard-inbox/switchboard/adapters"
)

const waID = "16505551234"

func TestBuildSendGolden(t *testing.T) {
	to := adapters.Recipient{ExternalID: waID}
	rows := []adapters.Choice{{ID: "rye_800g", Title: "Rye 800g", Description: "Dark rye, seeded"}, {ID: "sourdough_1kg", Title: "Sourdough 1kg"}}
	tests := []struct {
		name string
		out  adapters.Outbound
	}{
		{"text_reply", adapters.Outbound{ID: "sb-msg-000123", Kind: adapters.OutText, To: to, Text: "Ready at 5pm: https://bakery.example/pickup", PreviewURL: true, ReplyToExternalID: "wamid.HBgLMTY1MDU1NTEyMzQ001"}},
		{"text_phone", adapters.Outbound{ID: "sb-msg-000124", Kind: adapters.OutText, To: adapters.Recipient{Phone: "+447700900123"}, Text: "Hello Olivia"}},
		{"text_bsuid", adapters.Outbound{ID: "sb-msg-000125", Kind: adapters.OutText, To: adapters.Recipient{ExternalID: "US.13491208655302741918"}, Text: "Hi Kai"}},
		{"text_group", adapters.Outbound{ID: "sb-msg-000126", Kind: adapters.OutText, To: adapters.Recipient{GroupID: "120363025246125486"}, Text: "Group order confirmed for 9am."}},
		{"image_link", adapters.Outbound{ID: "sb-msg-000127", Kind: adapters.OutMedia, To: to, Media: &adapters.Media{Type: "image", URL: "https://bakery.example/rye.jpg", Caption: "Fresh today"}}},
		{"document_id", adapters.Outbound{ID: "sb-msg-000128", Kind: adapters.OutMedia, To: to, Media: &adapters.Media{Type: "file", MediaID: "843752371211942", Filename: "invoice-2211.pdf", Caption: "Your invoice"}}},
		{"audio", adapters.Outbound{ID: "sb-msg-000129", Kind: adapters.OutMedia, To: to, Media: &adapters.Media{Type: "audio", MediaID: "1592735364702291"}}},
		{"buttons", adapters.Outbound{ID: "sb-msg-000130", Kind: adapters.OutButtons, To: to, Text: "When will you pick up?", Footer: "Bakery Lisboa", Choices: []adapters.Choice{{ID: "pickup_today", Title: "Today 5pm"}, {ID: "pickup_tomorrow", Title: "Tomorrow 9am"}}}},
		{"list", adapters.Outbound{ID: "sb-msg-000131", Kind: adapters.OutList, To: to, Text: "What would you like?", ListButton: "See breads", Sections: []adapters.Section{{Title: "Breads", Choices: rows}}}},
		{"template", adapters.Outbound{ID: "sb-msg-000132", Kind: adapters.OutTemplate, To: to, Template: &adapters.Template{
			Name: "restock_alert", Language: "en_US",
			Components: []adapters.TemplateComponent{
				{Type: "header", Parameters: []adapters.TemplateParameter{{Type: "image", MediaURL: "https://bakery.example/rye.jpg"}}},
				{Type: "body", Parameters: []adapters.TemplateParameter{{Type: "text", Name: "first_name", Text: "Sam"}, {Type: "text", Name: "product", Text: "Rye 800g"}}},
				{Type: "button", SubType: "quick_reply", Index: 0, Parameters: []adapters.TemplateParameter{{Type: "payload", Text: "STOP_PROMOS"}}},
			},
		}}},
		{"reaction", adapters.Outbound{ID: "sb-msg-000133", Kind: adapters.OutReaction, To: to, TargetExternalID: "wamid.HBgLMTY1MDU1NTEyMzQ001", Reaction: "\U0001F44D"}},
		{"reaction_remove", adapters.Outbound{ID: "sb-msg-000134", Kind: adapters.OutReaction, To: to, TargetExternalID: "wamid.HBgLMTY1MDU1NTEyMzQ001"}},
		{"mark_read", adapters.Outbound{Kind: adapters.OutMarkSeen, To: to, TargetExternalID: "wamid.HBgLMTY1MDU1NTEyMzQ001"}},
		{"typing_on", adapters.Outbound{Kind: adapters.OutTypingOn, To: to, TargetExternalID: "wamid.HBgLMTY1MDU1NTEyMzQ001"}},
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
	to := adapters.Recipient{ExternalID: waID}
	row := func(n int) []adapters.Choice {
		out := make([]adapters.Choice, n)
		for i := range out {
			out[i] = adapters.Choice{ID: "r" + strings.Repeat("x", i), Title: "Row"}
		}
		return out
	}
	tests := []struct {
		name  string
		out   adapters.Outbound
		field string
	}{
		{"no recipient", adapters.Outbound{Kind: adapters.OutText, Text: "hi"}, "to"},
		{"otn token", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{OTNToken: "x"}, Text: "hi"}, "to"},
		{"text over 4096", adapters.Outbound{Kind: adapters.OutText, To: to, Text: strings.Repeat("a", 4097)}, "text"},
		{"caption on audio", adapters.Outbound{Kind: adapters.OutMedia, To: to, Media: &adapters.Media{Type: "audio", MediaID: "1", Caption: "hi"}}, "media.caption"},
		{"media with url and id", adapters.Outbound{Kind: adapters.OutMedia, To: to, Media: &adapters.Media{Type: "image", MediaID: "1", URL: "https://x"}}, "media"},
		{"4 buttons", adapters.Outbound{Kind: adapters.OutButtons, To: to, Text: "?", Choices: row(4)}, "choices"},
		{"button title over 20", adapters.Outbound{Kind: adapters.OutButtons, To: to, Text: "?", Choices: []adapters.Choice{{ID: "a", Title: strings.Repeat("b", 21)}}}, "choices.title"},
		{"11 list rows", adapters.Outbound{Kind: adapters.OutList, To: to, Text: "?", ListButton: "Pick", Sections: []adapters.Section{{Title: "A", Choices: row(6)}, {Title: "B", Choices: row(5)}}}, "sections"},
		{"list without button", adapters.Outbound{Kind: adapters.OutList, To: to, Text: "?", Sections: []adapters.Section{{Choices: row(1)}}}, "list_button"},
		{"buttons in a group", adapters.Outbound{Kind: adapters.OutButtons, To: adapters.Recipient{GroupID: "1203"}, Text: "?", Choices: row(1)}, "kind"},
		{"mark read in a group", adapters.Outbound{Kind: adapters.OutMarkSeen, To: adapters.Recipient{GroupID: "1203"}, TargetExternalID: "wamid.1"}, "kind"},
		{"mark read without message", adapters.Outbound{Kind: adapters.OutMarkSeen, To: to}, "target_external_id"},
		{"typing off", adapters.Outbound{Kind: adapters.OutTypingOff, To: to}, "kind"},
		{"otn request", adapters.Outbound{Kind: adapters.OutOTNRequest, To: to}, "kind"},
		{"template without language", adapters.Outbound{Kind: adapters.OutTemplate, To: to, Template: &adapters.Template{Name: "restock_alert"}}, "template"},
		{"reaction without target", adapters.Outbound{Kind: adapters.OutReaction, To: to, Reaction: "x"}, "target_external_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildSend(tt.out)
			var inv *adapters.InvalidOutboundError
			if !errors.As(err, &inv) || inv.Field != tt.field || inv.App != adapters.WhatsApp {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}
