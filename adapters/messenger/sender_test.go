package messenger

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
	var calls int
	var posted map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_ = json.NewDecoder(r.Body).Decode(&posted)
		switch r.URL.Path {
		case "/v25.0/104729588123456/messages":
			_, _ = io.WriteString(w, `{"recipient_id":"6723918450012345","message_id":"m_sent_1"}`)
		default: // the closed-window page
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"x"}}`)
		}
	}))
	defer srv.Close()
	s := NewSender(&meta.Client{BaseURL: srv.URL})
	ch := adapters.ChannelCreds{App: adapters.Messenger, AccountID: "104729588123456", AccessToken: "page-token"}
	text := adapters.Outbound{Kind: adapters.OutText, To: adapters.Recipient{ExternalID: psid}, MessagingType: "RESPONSE", Text: "hi"}

	var sender adapters.Sender = s // the interface the workers use
	res, err := sender.Send(context.Background(), ch, text)
	if err != nil || res.ExternalID != "m_sent_1" || res.RecipientID != psid || len(res.Raw) == 0 {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if posted["messaging_type"] != "RESPONSE" {
		t.Errorf("posted %v", posted)
	}

	ch.AccountID = "999"
	if _, err := s.Send(context.Background(), ch, text); meta.Classify(err) != meta.WindowClosed {
		t.Errorf("closed window: err %v, class %q", err, meta.Classify(err))
	}

	before := calls
	bad := text
	bad.Text = ""
	if _, err := s.Send(context.Background(), ch, bad); meta.Classify(err) != meta.Permanent || calls != before {
		t.Errorf("invalid outbound: err %v, %d calls made", err, calls-before)
	}
	if _, err := s.Send(context.Background(), adapters.ChannelCreds{App: adapters.WhatsApp}, text); err == nil || calls != before {
		t.Error("sent on a channel of another app")
	}
}
