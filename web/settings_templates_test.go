package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// fakeSync stands in for jobs.TemplateSyncer: it "fetches" fixed templates.
type fakeSync struct {
	store  *models.Store
	err    error
	synced []int64
}

func (f *fakeSync) SyncChannel(ctx context.Context, ch *models.Channel) (models.TemplateSync, error) {
	f.synced = append(f.synced, ch.ID)
	if f.err != nil {
		return models.TemplateSync{}, errors.Join(f.err, f.store.RecordTemplateSyncFailure(ctx, ch, time.Now(), f.err))
	}
	return f.store.ReplaceTemplates(ctx, ch, []models.WATemplate{
		{Name: "order_shipped", Language: "it", Category: "utility", Status: "approved", Body: "Ciao {{1}} <script>alert(1)</script>",
			ParameterFormat: "positional", Parameters: models.TemplateParams{{Component: "body", Name: "1"}}, Components: models.JSON(`[]`)},
		{Name: "spring_teaser", Language: "en_US", Category: "marketing", Status: "rejected", StatusReason: "INVALID_FORMAT",
			Body: "Big news", ParameterFormat: "positional", Components: models.JSON(`[]`)},
	}, time.Now())
}

func TestTemplatesPageSyncNow(t *testing.T) {
	e := newUIEnv(t, false)
	sync := &fakeSync{store: e.store}
	e.srv.templates = sync
	admin := e.signIn(t, e.b.admin) // Beta has the WhatsApp channel
	res, body := admin.get("/settings/templates")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Never synced") || !strings.Contains(body, `data-testid="sync-now"`) {
		t.Fatalf("before sync: %d %s", res.StatusCode, snippetOf(body, "template-channel"))
	}
	path := "/settings/templates/" + strconv.FormatInt(e.b.channel.ID, 10) + "/sync"
	if res := admin.post(path, nil); res.StatusCode != http.StatusSeeOther || len(sync.synced) != 1 {
		t.Fatalf("sync now: %d, %d syncs", res.StatusCode, len(sync.synced))
	}
	_, body = admin.get("/settings/templates?notice=templates.synced")
	for _, want := range []string{"Templates synced from Meta.", "order_shipped", "Approved", "Rejected", "INVALID_FORMAT",
		"Utility", "2 templates, 0 no longer listed", "&lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a template body is rendered unescaped")
	}

	// A failed sync is shown with Meta's reason.
	sync.err = errors.New("meta: (#190) Invalid OAuth access token")
	res, body = admin.postBody(path, nil)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Invalid OAuth access token") || !strings.Contains(body, "Sync failed") {
		t.Errorf("failed sync: %d %s", res.StatusCode, snippetOf(body, "template-channel"))
	}

	// Another business's channel, and non-admins.
	other := "/settings/templates/" + strconv.FormatInt(e.a.channel.ID, 10) + "/sync"
	if res := admin.post(other, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("another business's channel: %d", res.StatusCode)
	}
	if res, _ := e.signIn(t, e.b.agent).get("/settings/templates"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d", res.StatusCode)
	}
}

func TestChannelConnectSyncsTemplates(t *testing.T) {
	e := newUIEnv(t, false)
	sync := &fakeSync{store: e.store}
	e.srv.templates = sync
	admin := e.signIn(t, e.a.admin)
	res := admin.post("/settings/channels", map[string][]string{"app": {"whatsapp"}, "account_id": {"106540352211111"},
		"waba_id": {"102290129311111"}, "access_token": {"tok"}, "app_secret": {"sec"}})
	if res.StatusCode != http.StatusSeeOther || len(sync.synced) != 1 {
		t.Fatalf("connect: %d, %d syncs", res.StatusCode, len(sync.synced))
	}
	ts, _ := e.store.Templates(context.Background(), e.a.biz.ID)
	if len(ts) != 2 {
		t.Errorf("%d templates after connecting, want 2", len(ts))
	}
}
