package instagram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters/internal/parsetest"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

const igsid = "1289123456789012"

func TestBuildSendGolden(t *testing.T) {
	to := adapters.Recipient{ExternalID: igsid}
	tests := []struct {
		name string
		out  adapters.Outbound
	}{
		{"text_human_agent", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "MESSAGE_TAG", Tag: "HUMAN_AGENT", Text: "Your size M is reserved until Friday."}},
		{"image", adapters.Outbound{Kind: adapters.OutMedia, To: to, MessagingType: "RESPONSE", Media: &adapters.Media{Type: "image", URL: "https://shop.example/linen-shirt.jpg"}}},
		{"quick_replies", adapters.Outbound{Kind: adapters.OutQuickReplies, To: to, MessagingType: "RESPONSE", Text: "Which size?", Choices: []adapters.Choice{{ID: "SIZE_S", Title: "S"}, {ID: "SIZE_M", Title: "M"}}}},
		{"private_reply", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{CommentID: "17865799348089039"}, Text: "We sent you the details in Direct!"}},
		{"react", adapters.Outbound{Kind: adapters.OutReaction, To: to, TargetExternalID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAU", Reaction: "love"}},
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
	to := adapters.Recipient{ExternalID: igsid}
	tests := []struct {
		name  string
		out   adapters.Outbound
		field string
	}{
		// 334 euro signs are 334 characters but 1,002 bytes: Instagram counts bytes.
		{"text over 1000 bytes", adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Text: strings.Repeat("€", 334)}, "text"},
		{"otn token", adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{OTNToken: "x"}, Text: "hi"}, "to.otn_token"},
		{"otn request", adapters.Outbound{Kind: adapters.OutOTNRequest, To: to, MessagingType: "RESPONSE", OTN: &adapters.OTNRequest{Title: "t", Payload: "p"}}, "kind"},
		{"template", adapters.Outbound{Kind: adapters.OutTemplate, To: to, MessagingType: "UTILITY", Template: &adapters.Template{Name: "n", Language: "en"}}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildSend(tt.out)
			var inv *adapters.InvalidOutboundError
			if !errors.As(err, &inv) || inv.Field != tt.field || inv.App != adapters.Instagram {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
	ok := adapters.Outbound{Kind: adapters.OutText, To: to, MessagingType: "RESPONSE", Text: strings.Repeat("€", 333)}
	if _, err := BuildSend(ok); err != nil {
		t.Errorf("999 bytes refused: %v", err)
	}
}

func TestSender(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_, _ = io.WriteString(w, `{"recipient_id":"1289123456789012","message_id":"aWdfZAG1_sent"}`)
	}))
	defer srv.Close()
	var s adapters.Sender = NewSender(&meta.Client{BaseURL: srv.URL, Version: "v25.0"})
	ch := adapters.ChannelCreds{App: adapters.Instagram, AccountID: "17841400123456789", AccessToken: "ig-token"}
	out := adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{ExternalID: igsid}, MessagingType: "RESPONSE", Text: "hi"}
	res, err := s.Send(context.Background(), ch, out)
	if err != nil || res.ExternalID != "aWdfZAG1_sent" || path != "/v25.0/17841400123456789/messages" {
		t.Fatalf("Send = %+v, %v (path %s)", res, err, path)
	}
	if _, err := s.Send(context.Background(), adapters.ChannelCreds{App: adapters.Messenger}, out); err == nil {
		t.Error("an Instagram sender sent on a Messenger channel")
	}
}
