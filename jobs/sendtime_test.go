package jobs_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// The policy is judged again by the worker just before the Graph call: what
// changed while a message waited in the queue stops it, with the reason.
func TestPolicyIsJudgedAgainAtSendTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		app    string
		last   time.Duration // the customer's last message, before testNow
		req    jobs.SendRequest
		change func(e *env, c *customer)
		want   policy.Reason
	}{
		{"blocked while queued", models.AppWhatsApp, time.Hour, jobs.SendRequest{Text: "Your order shipped"},
			func(e *env, c *customer) {
				if err := e.store.SetBlocked(e.ctx, e.biz.ID, c.identity.ID, true); err != nil {
					e.t.Fatal(err)
				}
			}, policy.ReasonBlocked},
		{"opted out of marketing while queued", models.AppMessenger, time.Hour,
			jobs.SendRequest{Text: "20% off everything", Promotional: true, Automated: true},
			func(e *env, c *customer) {
				at := testNow
				if err := e.store.SetMarketingOptOut(e.ctx, e.biz.ID, c.identity.ID, &at, "test"); err != nil {
					e.t.Fatal(err)
				}
			}, policy.ReasonMarketingOptedOut},
		{"HUMAN_AGENT queued at day 6.99, sent after day 7", models.AppMessenger, 7*24*time.Hour - 10*time.Minute,
			jobs.SendRequest{Text: "Sorry for the wait!", HumanAgent: true},
			func(e *env, _ *customer) { e.setClock(testNow.Add(time.Hour)) }, policy.ReasonHumanAgentExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.customer(tc.app, users[tc.app], testNow.Add(-tc.last))
			e.halt() // the message waits in the queue while no worker runs
			req := tc.req
			req.BusinessID, req.ThreadID = e.biz.ID, c.thread.ID
			m, err := e.pipe.Outbox().Send(e.ctx, req)
			if err != nil {
				t.Fatalf("queueing: %v", err)
			}
			tc.change(e, c)
			e.start()
			got := e.waitStatus(m.ID, models.StatusFailed)
			if got.PolicyReason != string(tc.want) || got.Error == nil || got.Error.Code != 0 || got.Error.Title == "" {
				t.Fatalf("failed with reason %q, error %+v; want %q with its explanation", got.PolicyReason, got.Error, tc.want)
			}
			e.jobsDone()
			if n := len(e.sim.Received()); n != 0 {
				t.Fatalf("Meta received %d requests; the policy refuses this send now", n)
			}
		})
	}
}

func TestMarketingOptOutAtSendTimeIsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-48*time.Hour))
	if err := e.store.Gorm(e.ctx).Create(&models.WATemplate{BusinessID: e.biz.ID, ChannelID: c.channel.ID, Name: "spring_sale",
		Language: "it", Category: "marketing", Status: "approved", Body: "Saldi di primavera!"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddTemplate(c.account, metasim.Template{Name: "spring_sale", Language: "it", Category: "MARKETING"}); err != nil {
		t.Fatal(err)
	}
	req := jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Automated: true,
		Template: &jobs.TemplateRequest{Name: "spring_sale", Language: "it"}}
	e.sim.FailNext(1, http.StatusBadRequest, metasim.CodeMarketingOptOut) // Meta knows of a stop we never heard of
	m, err := e.pipe.Outbox().Send(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(m.ID, models.StatusFailed)
	if got.Error == nil || got.Error.Code != metasim.CodeMarketingOptOut {
		t.Fatalf("failure %+v, want Meta's 131050", got.Error)
	}
	id, err := e.store.Identity(e.ctx, e.biz.ID, c.identity.ID)
	if err != nil || id == nil || id.MarketingOptOutAt == nil {
		t.Fatalf("the opt-out Meta reported was not recorded: %+v %v", id, err)
	}
	// The next marketing send is refused before it is queued.
	var refused *jobs.RefusedError
	if _, err := e.pipe.Outbox().Send(e.ctx, req); !errors.As(err, &refused) || refused.Decision.Reason != policy.ReasonMarketingOptedOut {
		t.Fatalf("next marketing send: %v, want refused as marketing_opted_out", err)
	}
}
