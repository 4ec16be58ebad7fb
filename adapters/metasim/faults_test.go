package metasim

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)
	h.sim.FailNext(2, http.StatusServiceUnavailable, CodeServiceDown)
	for i := range 2 {
		status, resp := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi"))
		if code, _ := metaErr(resp); status != 503 || code != CodeServiceDown {
			t.Fatalf("failure %d: %d %v", i, status, resp)
		}
	}
	if status, _ := h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi")); status != 200 {
		t.Fatal("the storm did not end")
	}
	h.sim.FailNext(1, 0, CodeService)
	status, resp := h.post("/v25.0/"+pageID+"/messages", pageToken, messengerText(psid, "hi"))
	if code, _ := metaErr(resp); status != 500 || code != CodeService || dig(resp, "error", "is_transient") != true {
		t.Fatalf("Messenger 5xx: %d %v", status, resp)
	}
	st := h.sim.Stats()
	if st.Injected != 3 || st.Accepted != 1 || len(h.sim.Sends(phoneID)) != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// rawPost sends a body and returns the transport error, if any.
func rawPost(ctx context.Context, h *harness, path, token string, body any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestDropNextAcceptsButLosesTheAnswer(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)

	h.sim.DropNext(1, DropReset)
	if err := rawPost(context.Background(), h, "/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "reset")); err == nil {
		t.Fatal("the caller got an answer")
	}
	h.sim.DropNext(1, DropHang)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := rawPost(ctx, h, "/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hang")); err == nil {
		t.Fatal("the caller got an answer")
	}
	sends := h.sim.Sends(phoneID)
	if len(sends) != 2 || sends[0].Text != "reset" || sends[1].Text != "hang" {
		t.Fatalf("Meta should have accepted both: %+v", sends)
	}
	if st := h.sim.Stats(); st.Dropped != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Meta accepted them, so their statuses still come.
	waitFor(t, "statuses of dropped sends", func() bool { return len(statusesOf(h.recv, sends[0].MessageID)) == 3 })
}

func TestResetForgetsRecordsNotState(t *testing.T) {
	h := newHarness(t, today)
	_ = h.sim.SetLastUserMessage(phoneID, itPhone, today)
	h.post("/v25.0/"+phoneID+"/messages", waToken, waTextTo(itPhone, "hi"))
	h.sim.Reset()
	if len(h.sim.Received()) != 0 || h.sim.Stats().Accepted != 0 {
		t.Fatal("Reset kept records")
	}
	if _, ok := h.sim.LastUserMessage(phoneID, itPhone); !ok {
		t.Fatal("Reset forgot Meta's state")
	}
}

func TestServeUntilContextEnds(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	_ = s.AddAccount(Account{App: WhatsApp, ID: phoneID, AccessToken: waToken})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/v25.0/"+phoneID+"/subscribed_apps", nil)
	req.Header.Set("Authorization", "Bearer "+waToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.BaseURL() != "http://"+ln.Addr().String() {
		t.Fatalf("subscribed_apps %d, base URL %q", resp.StatusCode, s.BaseURL())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}
