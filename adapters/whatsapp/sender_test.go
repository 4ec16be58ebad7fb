package whatsapp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

func TestSender(t *testing.T) {
	var posted map[string]any
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		posted = nil
		_ = json.NewDecoder(r.Body).Decode(&posted)
		switch {
		case r.URL.Path != "/v25.0/106540352242922/messages":
			w.WriteHeader(http.StatusNotFound)
		case posted["status"] == "read":
			_, _ = io.WriteString(w, `{"success":true}`)
		case posted["to"] == "15550000000":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed since the recipient last replied."},"fbtrace_id":"A1"}}`)
		default:
			_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.SENT1","message_status":"accepted"}]}`)
		}
	}))
	defer srv.Close()
	var s adapters.Sender = NewSender(&meta.Client{BaseURL: srv.URL})
	ch := adapters.ChannelCreds{App: adapters.WhatsApp, AccountID: "106540352242922", AccessToken: "system-user-token"}

	out := adapters.Outbound{ID: "sb-msg-000123", Kind: adapters.OutText, To: adapters.Recipient{ExternalID: waID}, Text: "hi"}
	res, err := s.Send(context.Background(), ch, out)
	if err != nil || res.ExternalID != "wamid.SENT1" || res.RecipientID != waID {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if auth != "Bearer system-user-token" || posted["biz_opaque_callback_data"] != "sb-msg-000123" {
		t.Errorf("auth %q, posted %v", auth, posted)
	}

	read := adapters.Outbound{Kind: adapters.OutMarkSeen, To: adapters.Recipient{ExternalID: waID}, TargetExternalID: "wamid.IN1"}
	if res, err := s.Send(context.Background(), ch, read); err != nil || res.ExternalID != "" {
		t.Errorf("mark read = %+v, %v", res, err)
	}

	closed := out
	closed.To = adapters.Recipient{Phone: "+15550000000"}
	if _, err := s.Send(context.Background(), ch, closed); meta.Classify(err) != meta.WindowClosed {
		t.Errorf("closed window: err %v, class %q", err, meta.Classify(err))
	}
	if _, err := s.Send(context.Background(), adapters.ChannelCreds{App: adapters.Messenger}, out); err == nil {
		t.Error("a WhatsApp sender sent on a Messenger channel")
	}
}
