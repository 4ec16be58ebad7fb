package metasim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// benchSim is a simulator with no throughput cap and no status webhooks, behind a real server.
func benchSim(b *testing.B) (*Sim, *httptest.Server) {
	b.Helper()
	s := New(Config{DisableStatusWebhooks: true, MaxRecorded: 1})
	b.Cleanup(func() { _ = s.Close() })
	for _, a := range []Account{
		{App: WhatsApp, ID: phoneID, WABAID: wabaID, AccessToken: waToken, MPS: -1},
		{App: Messenger, ID: pageID, AccessToken: pageToken, MPS: -1},
	} {
		if err := s.AddAccount(a); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	return s, srv
}

// BenchmarkSimSend measures the WhatsApp send endpoint end to end over loopback HTTP: template
// sends to distinct recipients (a campaign's shape), parallel callers.
func BenchmarkSimSend(b *testing.B) {
	_, srv := benchSim(b)
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
	var n atomic.Int64
	url := srv.URL + "/v25.0/" + phoneID + "/messages"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			to := fmt.Sprintf("39333%07d", n.Add(1))
			body := `{"messaging_product":"whatsapp","to":"` + to + `","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
			req.Header.Set("Authorization", "Bearer "+waToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// BenchmarkSimSendHandler measures the handler alone, without the network.
func BenchmarkSimSendHandler(b *testing.B) {
	s, _ := benchSim(b)
	_ = s.SetLastUserMessage(pageID, psid, s.now())
	body := []byte(`{"recipient":{"id":"` + psid + `"},"messaging_type":"RESPONSE","message":{"text":"Ciao Zoë"}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v25.0/"+pageID+"/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pageToken)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkBuildPayload measures the generator: one signed inbound webhook.
func BenchmarkBuildPayload(b *testing.B) {
	s, _ := benchSim(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Build(Event{App: WhatsApp, Kind: "text"}); err != nil {
			b.Fatal(err)
		}
	}
}
